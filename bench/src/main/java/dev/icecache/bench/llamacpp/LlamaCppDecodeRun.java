package dev.icecache.bench.llamacpp;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.ModelParameters;

/**
 * The llama.cpp side of {@code compare-llamacpp}, run in its own JVM (closing java-llama.cpp
 * can hang, so it ends with {@link Runtime#halt}). Generates {@code tokens} tokens greedily,
 * ignoring EOS, once to warm up and then {@code runs} times; llama.cpp prints its own
 * {@code eval time} line after each generation, which the parent parses. Each run also prints
 * {@code wall <tokens/s>} measured here between the first and the last streamed token.
 *
 * <pre>args: model-file prompt context tokens threads runs</pre>
 */
public final class LlamaCppDecodeRun {

    private LlamaCppDecodeRun() {
    }

    public static void main(String[] args) {
        int status = 2;
        try {
            run(args[0], args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]),
                    Integer.parseInt(args[5]));
            status = 0;
        } catch (Throwable t) {
            System.err.println("llama.cpp decode run failed: " + t);
            t.printStackTrace(System.err);
        } finally {
            System.out.flush();
            System.err.flush();
            Runtime.getRuntime().halt(status);
        }
    }

    private static void run(String model, String prompt, int context, int tokens, int threads, int runs) {
        LlamaModel.setLogger(null, (level, message) -> { });
        LlamaModel llama = new LlamaModel(new ModelParameters().setModel(model).setCtxSize(context)
                .setThreads(threads).setThreadsBatch(threads).setSeed(1));
        for (int run = 0; run <= runs; run++) {
            InferenceParameters params = new InferenceParameters(prompt).setNPredict(tokens).setTemperature(0f)
                    .setIgnoreEos(true).setCachePrompt(false);
            long first = 0;
            long last = 0;
            int count = 0;
            for (LlamaOutput ignored : llama.generate(params)) {
                last = System.nanoTime();
                if (count++ == 0) {
                    first = last;
                }
            }
            System.out.flush();
            double wall = count > 1 ? (count - 1) / ((last - first) / 1e9) : 0;
            System.out.println((run == 0 ? "warmup " : "wall ") + wall);
        }
    }
}
