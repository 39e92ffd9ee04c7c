package dev.icecache.job;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.icecache.job.inspect.ModelFootprint;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.ModelConfig;
import dev.icecache.model.gguf.GgufFile;
import dev.icecache.model.gguf.GgufTensorInfo;
import dev.icecache.model.tokenizer.Vocabulary;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code icecache inspect-model FILE}: what a model file holds and what its KV cache costs,
 * without generating anything.
 */
@Command(name = "inspect-model", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Show a model's architecture, tensors, vocabulary, context and KV-cache memory.",
        footer = {"", "Examples:",
            "  icecache inspect-model ../shared/models/stories260K/stories260Ktok512.gguf --context 512",
            "  icecache inspect-model model.gguf --context 32768 --budget 512 --no-tensors"})
public final class InspectModelCommand implements Callable<Integer> {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "GGUF file or llama2.c .bin checkpoint.")
    Path model;

    @Option(names = "--context", defaultValue = "0", paramLabel = "N",
            description = "Context length overriding the model file's, used for the memory estimate (0 = the file's;"
                    + " default: ${DEFAULT-VALUE}).")
    int context;

    @Option(names = "--budget", defaultValue = "256", paramLabel = "TOKENS",
            description = "Resident tokens per (sparse layer, KV head) for the IceCache estimate (default: ${DEFAULT-VALUE}).")
    int budget;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "tokenizer.bin of a llama2.c .bin model (default: none; the vocabulary is then not shown).")
    Path tokenizerFile;

    @Option(names = "--no-tensors", defaultValue = "false",
            description = "Leave out the tensor table (default: ${DEFAULT-VALUE}).")
    boolean noTensors;

    @Override
    public Integer call() throws IOException {
        CommandLine cli = spec.commandLine();
        if (context < 0) {
            throw new CommandLine.ParameterException(cli, "--context=" + context + " must be >= 0 (0 = from the model file)");
        }
        if (budget <= 0 || budget % CacheConfig.PAGE_ROWS != 0) {
            throw new CommandLine.ParameterException(cli, "--budget=" + budget + " must be a positive multiple of "
                    + CacheConfig.PAGE_ROWS);
        }
        if (!Files.isRegularFile(model)) {
            throw new IllegalArgumentException("model " + model + " is not a file; give a GGUF or llama2.c .bin model");
        }
        GgufFile gguf = isGguf(model) ? GgufFile.read(model) : null;
        PrintWriter out = cli.getOut();
        try (LlamaModel llama = LlamaModel.load(model, new LoadOptions(tokenizerFile, context))) {
            printModel(out, llama, gguf);
            printVocabulary(out, llama.vocabulary());
            printMemory(out, llama.config(), weightBytes(gguf));
            if (gguf != null && !noTensors) {
                printTensors(out, gguf.tensors());
            } else if (gguf == null) {
                out.println("tensors:    (a llama2.c .bin has no tensor table)");
            }
        }
        out.flush();
        return 0;
    }

    private void printModel(PrintWriter out, LlamaModel llama, GgufFile gguf) throws IOException {
        ModelConfig c = llama.config();
        boolean tied = llama.weights().classifier() == llama.weights().tokenEmbedding();
        out.printf(Locale.ROOT, "model:      %s (%s, %s), %s%n", c.name(), c.architecture(),
                gguf == null ? "llama2.c .bin" : "GGUF v3", bytes(Files.size(model)));
        out.printf(Locale.ROOT, "shape:      dim=%d hidden=%d layers=%d heads=%d kv_heads=%d head_dim=%d vocab=%d%n",
                c.dim(), c.hiddenDim(), c.nLayers(), c.nHeads(), c.nKvHeads(), c.headDim(), c.vocabSize());
        out.printf(Locale.ROOT, "weights:    %s, %,d parameters%s%n", c.weightType(), c.parameterCount(tied),
                tied ? " (classifier tied to the embedding)" : "");
        String fileContext = gguf == null ? "" : fileContext(gguf);
        out.printf(Locale.ROOT, "context:    %d%s%n", c.contextLength(),
                context > 0 ? " (from --context" + fileContext + ")" : fileContext.isEmpty() ? "" : " (from the file)");
        out.printf(Locale.ROOT, "rope:       theta=%s rms_eps=%s pairs=%s%n", c.ropeTheta(), c.rmsEps(),
                c.neoxRope() ? "(i, i+head_dim/2) NeoX" : "(2i, 2i+1)");
        out.printf(Locale.ROOT, "attention:  %s%n", attentionExtras(llama));
        if (gguf != null) {
            out.printf(Locale.ROOT, "types:      %s%n", typeCounts(gguf.tensors()));
        }
        out.printf(Locale.ROOT, "chat:       %s%n", llama.hasChatTemplate()
                ? "template present (tokenizer.chat_template, " + llama.chatTemplate().source().length()
                        + " chars): --chat uses it"
                : "no template (tokenizer.chat_template absent): use --prompt");
    }

    private static String attentionExtras(LlamaModel llama) {
        if (llama.weights().qkvBiases() != null) {
            return "q/k/v biases (qwen2)";
        }
        return llama.weights().qkNorms() != null ? "per-head RMSNorm of q and k (qwen3)" : "plain (llama)";
    }

    /** How many tensors of each type, most frequent first, e.g. "Q4_K x 98, Q6_K x 17, F32 x 33". */
    private static String typeCounts(Map<String, GgufTensorInfo> tensors) {
        Map<String, Integer> counts = new java.util.TreeMap<>();
        for (GgufTensorInfo t : tensors.values()) {
            counts.merge(t.type().name(), 1, Integer::sum);
        }
        StringBuilder b = new StringBuilder();
        counts.entrySet().stream().sorted((a, z) -> z.getValue() - a.getValue())
                .forEach(e -> b.append(b.length() == 0 ? "" : ", ").append(e.getKey()).append(" x ").append(e.getValue()));
        return b.toString();
    }

    private static String fileContext(GgufFile gguf) throws IOException {
        String key = gguf.metadata().getString("general.architecture", "llama") + ".context_length";
        return gguf.metadata().contains(key) ? "; the file says " + gguf.metadata().getInt(key, 0) : "";
    }

    private static void printVocabulary(PrintWriter out, Vocabulary v) {
        if (v == null) {
            out.println("vocabulary: none (pass --tokenizer tokenizer.bin for a llama2.c model)");
            return;
        }
        String kind = "gpt2".equals(v.model()) ? "byte-level BPE" : "SentencePiece";
        out.printf(Locale.ROOT, "vocabulary: %s (%s), %d tokens, bos=%s eos=%s unk=%s, add_bos=%s%n", kind, v.model(),
                v.size(), token(v, v.bos()), token(v, v.eos()), token(v, v.unk()), v.addBos());
    }

    private static String token(Vocabulary v, int id) {
        return id < 0 ? "none" : id + " " + quoted(v.tokens()[id]);
    }

    /** The token text in double quotes, control characters as \\uXXXX so the line stays one line. */
    private static String quoted(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch < 0x20 || ch == '"' || ch == '\\') {
                b.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
            } else {
                b.append(ch);
            }
        }
        return b.append('"').toString();
    }

    private void printMemory(PrintWriter out, ModelConfig c, long weightBytes) {
        ModelFootprint f = ModelFootprint.of(c);
        long ctx = c.contextLength();
        out.printf(Locale.ROOT, "KV cache:   %,d bytes/token as F32, %,d as BF16 (K and V, all layers)%n",
                f.kvBytesPerToken(PageFormat.F32), f.kvBytesPerToken(PageFormat.BF16));
        out.printf(Locale.ROOT, "memory at context %d:%n", ctx);
        out.printf(Locale.ROOT, "  weights                      %s%n", bytes(weightBytes));
        out.printf(Locale.ROOT, "  full KV cache, F32           %s%n", bytes(f.fullCacheBytes(ctx, PageFormat.F32)));
        out.printf(Locale.ROOT, "  full KV cache, BF16          %s%n", bytes(f.fullCacheBytes(ctx, PageFormat.BF16)));
        out.printf(Locale.ROOT, "  IceCache resident, F32       %s (budget %d tokens, %d dense layers;"
                        + " the rest lives in Flink state)%n",
                bytes(f.iceCacheResidentBytes(ctx, budget, CacheConfig.DEFAULT_DENSE_LAYERS)), budget,
                Math.min(CacheConfig.DEFAULT_DENSE_LAYERS, c.nLayers()));
        long heap = f.liveHeapBytesPerToken(CacheConfig.DEFAULT_DENSE_LAYERS);
        long state = f.stateBytesPerToken(CacheConfig.DEFAULT_DENSE_LAYERS);
        out.printf(Locale.ROOT, "  IceCache live document heap  %s (%,d bytes/token: index and dense rows; what"
                + " icecache.memory.budget counts, plus the pool)%n", bytes(Math.multiplyExact(ctx, heap)), heap);
        out.printf(Locale.ROOT, "  IceCache keyed state         %s (%,d bytes/token: pages and index keys, in"
                + " RocksDB)%n", bytes(Math.multiplyExact(ctx, state)), state);
    }

    private long weightBytes(GgufFile gguf) throws IOException {
        if (gguf == null) {
            return Files.size(model);
        }
        long sum = 0;
        for (GgufTensorInfo t : gguf.tensors().values()) {
            sum += t.byteSize();
        }
        return sum;
    }

    private static void printTensors(PrintWriter out, Map<String, GgufTensorInfo> tensors) {
        int width = "name".length();
        for (String name : tensors.keySet()) {
            width = Math.max(width, name.length());
        }
        out.printf(Locale.ROOT, "tensors (%d):%n", tensors.size());
        String row = "  %-" + width + "s  %-5s  %-16s  %,14d%n";
        out.printf(Locale.ROOT, "  %-" + width + "s  %-5s  %-16s  %14s%n", "name", "type", "shape", "bytes");
        for (GgufTensorInfo t : tensors.values()) {
            out.printf(Locale.ROOT, row, t.name(), t.type(), t.shape(), t.byteSize());
        }
    }

    /** A byte count with a binary unit, e.g. "1,280 B" or "4.0 MiB (4,194,304 B)". */
    static String bytes(long n) {
        if (n < 1024) {
            return String.format(Locale.ROOT, "%,d B", n);
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s (%,d B)", v, units[u], n);
    }

    private static boolean isGguf(Path file) throws IOException {
        byte[] head = new byte[4];
        try (var in = Files.newInputStream(file)) {
            return in.readNBytes(head, 0, 4) == 4 && head[0] == 'G' && head[1] == 'G' && head[2] == 'U' && head[3] == 'F';
        }
    }
}
