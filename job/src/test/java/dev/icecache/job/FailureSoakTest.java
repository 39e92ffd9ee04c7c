package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many documents at parallelism 2 with task failures injected at seeded random points: one
 * while a seeded document is still in prefill (at a seeded checkpoint) and several at seeded
 * (document, piece) points of decoding. Every document's output must equal the failure-free
 * run. {@code -Dicecache.soak.documents=N}, {@code -Dicecache.soak.faults=K} and
 * {@code -Dicecache.soak.seed=S} make it longer or different.
 */
class FailureSoakTest {

    private static final int DOCUMENTS = Integer.getInteger("icecache.soak.documents", 12);
    private static final int DECODE_FAULTS = Integer.getInteger("icecache.soak.faults", 4);
    private static final long SEED = Long.getLong("icecache.soak.seed", 2026L);

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2)
                    .build());

    @TempDir
    Path dir;

    @Test
    void shouldGiveTheFailureFreeOutputForEveryDocumentUnderSeededFailures() throws Exception {
        SplittableRandom random = new SplittableRandom(SEED);
        Path docs = writeDocuments(dir.resolve("docs"), random);
        Map<String, List<JobFixtures.Piece>> clean = run(docs, dir.resolve("clean"), null);
        assertEquals(DOCUMENTS, clean.size());

        List<String> names = List.copyOf(clean.keySet());
        String inPrefill = names.get(random.nextInt(names.size()));
        FailOnce.Quiet prefillFault = new FailOnce.Quiet(dir.resolve("fault-prefill"), 1 + random.nextInt(3),
                "\"doc\":\"" + inPrefill + "\"");
        List<FailOnce.Trigger> decodeFaults = new ArrayList<>();
        StringBuilder plan = new StringBuilder("prefill of " + inPrefill + " at checkpoint "
                + prefillFault.checkpoints());
        for (int i = 0; i < DECODE_FAULTS; i++) {
            String doc = names.get(random.nextInt(names.size()));
            int seq = random.nextInt(clean.get(doc).size());
            decodeFaults.add(FailOnce.Trigger.fromPiece(dir.resolve("fault-" + i), doc, seq));
            plan.append("; ").append(doc).append(" piece ").append(seq);
        }
        Map<String, List<JobFixtures.Piece>> faulty = run(docs, dir.resolve("faulty"),
                new FailOnce(prefillFault, decodeFaults.toArray(FailOnce.Trigger[]::new)));

        int injected = prefillFault.fired() ? 1 : 0;
        for (FailOnce.Trigger t : decodeFaults) {
            injected += t.fired() ? 1 : 0;
        }
        // a prefill fault needs its document unseen at that checkpoint; decode faults need one checkpoint first
        assertTrue(injected >= DECODE_FAULTS / 2 + 1, "too few faults fired (" + injected + ") for plan: " + plan);
        assertEquals(clean, faulty, "output under faults differs from the failure-free run; seed=" + SEED
                + ", plan: " + plan);
        System.out.printf("failure soak: %d documents, parallelism 2, seed=%d: %d faults injected, %d survived"
                + " (output equal to the failure-free run); plan: %s%n", DOCUMENTS, SEED, injected, injected, plan);
    }

    private static Map<String, List<JobFixtures.Piece>> run(Path docs, Path work, FailOnce faults) throws Exception {
        Configuration config = JobFixtures.config(work.resolve("cp"));
        config.setString("restart-strategy.fixed-delay.attempts", Integer.toString(DECODE_FAULTS + 4));
        Path out = work.resolve("out");
        new SummarizeJob(SummarizeJob.fileSource(docs, 256), SummarizeJob.fileSink(out), config, faults).execute();
        return JobFixtures.readOutput(out);
    }

    /** Seeded slices (300 to 1,800 characters) of the example documents, one file each. */
    private static Path writeDocuments(Path dir, SplittableRandom random) throws Exception {
        Path examples = Path.of(System.getProperty("icecache.examples.dir", "../examples/documents"));
        String all = Files.readString(examples.resolve("garden.txt")) + "\n\n"
                + Files.readString(examples.resolve("lighthouse.txt")) + "\n\n"
                + Files.readString(examples.resolve("clockmaker.txt"));
        Files.createDirectories(dir);
        for (int d = 0; d < DOCUMENTS; d++) {
            int length = 300 + random.nextInt(1500);
            int from = random.nextInt(all.length() - length);
            Files.writeString(dir.resolve(String.format("doc-%02d.txt", d)), all.substring(from, from + length));
        }
        return dir;
    }
}
