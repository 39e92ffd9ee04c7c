package dev.icecache.bench.llamacpp;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.ModelParameters;

/**
 * The llama.cpp side of {@code bench speed} at one context, run in its own JVM (closing
 * java-llama.cpp can hang, so it ends with {@link Runtime#halt}). A short warm-up generation,
 * then ONE generation over the long prompt: the prompt is prefilled once and {@code steps + 1}
 * tokens are decoded greedily (EOS ignored). It prints, for the parent to parse:
 *
 * <pre>
 *   prefill &lt;seconds&gt;     from the request to the first token (prompt prefill + first sample)
 *   step &lt;ms&gt;             one line per decode step: the time between two streamed tokens
 * </pre>
 *
 * and llama.cpp prints its own {@code prompt eval time} and {@code eval time} lines after each
 * generation (the last of each belongs to the long one).
 *
 * <pre>args: model-file prompt context steps threads</pre>
 */
public final class LlamaCppContextRun {

    private static final String WARMUP_PROMPT = "a b c d e f g h i j k l m n o p";

    private LlamaCppContextRun() {
    }

    public static void main(String[] args) {
        int status = 2;
        try {
            run(args[0], args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]));
            status = 0;
        } catch (Throwable t) {
            System.err.println("llama.cpp context run failed: " + t);
            t.printStackTrace(System.err);
        } finally {
            System.out.flush();
            System.err.flush();
            Runtime.getRuntime().halt(status);
        }
    }

    private static void run(String model, String prompt, int context, int steps, int threads) {
        LlamaModel.setLogger(null, (level, message) -> { });
        LlamaModel llama = new LlamaModel(new ModelParameters().setModel(model).setCtxSize(context)
                .setThreads(threads).setThreadsBatch(threads).setSeed(1));
        generate(llama, WARMUP_PROMPT, 4, new long[4]);
        System.out.flush();
        System.out.println("warmup done");
        long[] at = new long[steps + 1];
        long start = System.nanoTime();
        int count = generate(llama, prompt, steps + 1, at);
        System.out.flush();
        System.out.println("prefill " + (at[0] - start) / 1e9);
        for (int i = 1; i < count; i++) {
            System.out.println("step " + (at[i] - at[i - 1]) / 1e6);
        }
    }

    /** Generates up to {@code tokens} tokens; writes each streamed token's nanoTime into {@code at}; returns how many. */
    private static int generate(LlamaModel llama, String prompt, int tokens, long[] at) {
        InferenceParameters params = new InferenceParameters(prompt).setNPredict(tokens).setTemperature(0f)
                .setIgnoreEos(true).setCachePrompt(false);
        int count = 0;
        for (LlamaOutput ignored : llama.generate(params)) {
            if (count < at.length) {
                at[count] = System.nanoTime();
            }
            count++;
        }
        return Math.min(count, at.length);
    }
}
