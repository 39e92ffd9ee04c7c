package dev.icecache.model.fuzz;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.ModelFormatException;
import dev.icecache.model.TestModels;
import dev.icecache.model.synthetic.RandomModels;
import dev.icecache.model.synthetic.WeightTypes;
import dev.icecache.model.tensor.GgmlType;
import dev.icecache.model.tokenizer.Llama2cTokenizerFile;

/**
 * Seeded mutation fuzzing of every model reader: GGUF (real and writer-made with each quant
 * type), llama2.c checkpoints and {@code tokenizer.bin}. Each case must load or fail with the
 * documented error (a {@link ModelFormatException} from {@link LlamaModel#load}, an
 * {@link IllegalArgumentException} from {@link Llama2cTokenizerFile#read}), within
 * {@link #CASE_TIMEOUT}, allocating at most {@link #allocationBound} bytes on its thread.
 *
 * <p>{@code -Dicecache.fuzz.cases=N} runs N cases (default 2,000), {@code -Dicecache.fuzz.seed=S}
 * another seed. A failing case is written under {@code target/fuzz-failures/} and its seed
 * printed, so it can become a test in {@link FuzzRegressionTest}.
 */
class ModelFileFuzzTest {

    private static final int CASES = Integer.getInteger("icecache.fuzz.cases", 2_000);
    private static final long SEED = Long.getLong("icecache.fuzz.seed", 0x1CEC_AC4EL);
    private static final Duration CASE_TIMEOUT = Duration.ofSeconds(10);
    private static final RandomModels.Shape SMALL = new RandomModels.Shape(32, 64, 1, 2, 1, 360, 16);
    private static final RandomModels.Shape K_SMALL = new RandomModels.Shape(256, 32, 1, 2, 1, 360, 16);

    /** How a corpus file is read. */
    enum Reader { MODEL, LLAMA2C_MODEL, LLAMA2C_TOKENIZER_OF_MODEL, TOKENIZER_FILE }

    /** A valid input and how to read it; {@code companion} is the other file a llama2.c pair needs. */
    record Seed(String name, Reader reader, byte[] bytes, Path companion, int vocab) {
    }

    @TempDir
    static Path dir;
    private static final List<Seed> CORPUS = new ArrayList<>();

    @BeforeAll
    static void corpus() throws IOException {
        for (GgmlType type : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.F16, GgmlType.BF16}) {
            Path f = dir.resolve("random-" + type + ".gguf");
            RandomModels.write(f, SMALL, type, 7, type == GgmlType.F16);
            CORPUS.add(new Seed(f.getFileName().toString(), Reader.MODEL, Files.readAllBytes(f), null, 0));
        }
        // rows of 256: Q4_K and Q6_K tensors (Q4_K_M mix); rows of 32 under Q5_K: the Q5_1 fallback
        Path kMix = dir.resolve("random-Q4_K_M.gguf");
        RandomModels.write(kMix, K_SMALL, WeightTypes.q4KM(), "Q4_K_M", 7, false);
        CORPUS.add(new Seed(kMix.getFileName().toString(), Reader.MODEL, Files.readAllBytes(kMix), null, 0));
        for (GgmlType type : new GgmlType[] {GgmlType.Q5_K, GgmlType.Q5_0}) {
            Path f = dir.resolve("random-" + type + ".gguf");
            RandomModels.write(f, type == GgmlType.Q5_K ? K_SMALL : SMALL, type, 7, true);
            CORPUS.add(new Seed(f.getFileName().toString(), Reader.MODEL, Files.readAllBytes(f), null, 0));
        }
        Path storiesGguf = TestModels.require("stories260K/stories260Ktok512.gguf");
        Path storiesBin = TestModels.require("stories260K/stories260K.bin");
        Path tok512 = TestModels.require("stories260K/tok512.bin");
        Path iceGguf = TestModels.require("iceeval-1m/iceeval-1m.gguf");
        Path iceTokenizer = TestModels.require("iceeval-1m/tokenizer.bin");
        CORPUS.add(new Seed("stories260Ktok512.gguf", Reader.MODEL, Files.readAllBytes(storiesGguf), null, 0));
        CORPUS.add(new Seed("iceeval-1m.gguf", Reader.MODEL, Files.readAllBytes(iceGguf), null, 0));
        CORPUS.add(new Seed("stories260K.bin", Reader.LLAMA2C_MODEL, Files.readAllBytes(storiesBin), tok512, 0));
        CORPUS.add(new Seed("tok512.bin", Reader.LLAMA2C_TOKENIZER_OF_MODEL, Files.readAllBytes(tok512), storiesBin, 0));
        CORPUS.add(new Seed("iceeval tokenizer.bin", Reader.TOKENIZER_FILE, Files.readAllBytes(iceTokenizer), null,
                2048));
    }

    @Test
    void shouldLoadOrRejectEveryMutatedFileWithinTimeAndAllocationBounds() throws IOException {
        long start = System.nanoTime();
        int[] loaded = new int[CORPUS.size()];
        int[] rejected = new int[CORPUS.size()];
        double worstOfBound = 0;
        long mostAllocated = 0;
        for (int i = 0; i < CASES; i++) {
            long caseSeed = SEED + i;
            SplittableRandom r = new SplittableRandom(caseSeed);
            int target = i % CORPUS.size();
            Seed seed = CORPUS.get(target);
            Mutation m = Mutation.of(seed.bytes(), r);
            Path file = dir.resolve("case-" + i + (seed.reader() == Reader.MODEL ? ".gguf" : ".bin"));
            Files.write(file, m.bytes());
            String where = "case " + i + " (seed=" + caseSeed + ", -Dicecache.fuzz.seed=" + SEED + ") on " + seed.name()
                    + ": " + m.kind();
            Outcome o;
            try {
                o = assertTimeoutPreemptively(CASE_TIMEOUT, () -> run(seed, file), "hang: " + where);
            } catch (AssertionError e) {
                keep(file, i);
                throw e;
            }
            if (o.unexpected() != null) {
                keep(file, i);
                throw new AssertionError("undocumented exception in " + where + ": " + o.unexpected(), o.unexpected());
            }
            long bound = allocationBound(m.bytes().length);
            if (o.allocatedBytes() > bound) {
                keep(file, i);
                fail("allocated " + o.allocatedBytes() + " bytes (bound " + bound + ") in " + where);
            }
            worstOfBound = Math.max(worstOfBound, (double) o.allocatedBytes() / bound);
            mostAllocated = Math.max(mostAllocated, o.allocatedBytes());
            if (o.loaded()) {
                loaded[target]++;
            } else {
                rejected[target]++;
            }
            Files.delete(file);
        }
        StringBuilder report = new StringBuilder();
        for (int t = 0; t < CORPUS.size(); t++) {
            report.append(String.format("  %-24s loaded=%d rejected=%d%n", CORPUS.get(t).name(), loaded[t], rejected[t]));
        }
        System.out.printf("model fuzz: %d cases, seed=%d, %.1f s, most allocated by one case %d bytes,"
                + " worst case at %.1f%% of its bound%n%s", CASES, SEED, (System.nanoTime() - start) / 1e9,
                mostAllocated, 100 * worstOfBound, report);
        int rejectedTotal = 0;
        for (int n : rejected) {
            rejectedTotal += n;
        }
        assertTrue(rejectedTotal > CASES / 4, "mutations too weak: only " + rejectedTotal + " of " + CASES + " rejected");
    }

    /**
     * Heap a load may allocate for a file of {@code fileBytes}: the whole file read into the
     * heap a few times over (tokenizer strings, norms, metadata boxes) plus a fixed 64 MiB for
     * scratch, buffers and class loading. A reader that trusts a count allocates gigabytes.
     */
    static long allocationBound(long fileBytes) {
        return 64L * fileBytes + (64L << 20);
    }

    /** What one case did. */
    record Outcome(boolean loaded, Throwable unexpected, long allocatedBytes) {
    }

    static Outcome run(Seed seed, Path file) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        boolean loaded = false;
        Throwable unexpected = null;
        try {
            switch (seed.reader()) {
                case MODEL -> loaded = load(file, LoadOptions.defaults());
                case LLAMA2C_MODEL -> loaded = load(file, new LoadOptions(seed.companion(), 0));
                case LLAMA2C_TOKENIZER_OF_MODEL -> loaded = load(seed.companion(), new LoadOptions(file, 0));
                case TOKENIZER_FILE -> {
                    try {
                        Llama2cTokenizerFile.read(file, seed.vocab());
                        loaded = true;
                    } catch (IllegalArgumentException documented) {
                        loaded = false;
                    }
                }
            }
        } catch (ModelFormatException documented) {
            loaded = false;
        } catch (Throwable t) {
            unexpected = t;
        }
        return new Outcome(loaded, unexpected, threads.getCurrentThreadAllocatedBytes() - before);
    }

    private static boolean load(Path file, LoadOptions options) throws IOException {
        try (LlamaModel ignored = LlamaModel.load(file, options)) {
            return true;
        }
    }

    private static void keep(Path file, int i) throws IOException {
        Path failures = Path.of("target", "fuzz-failures");
        Files.createDirectories(failures);
        Files.copy(file, failures.resolve(file.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        System.out.println("fuzz case " + i + " kept as " + failures.resolve(file.getFileName()).toAbsolutePath());
    }
}
