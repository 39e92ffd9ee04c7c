package dev.icecache.bench.llamacpp;

import dev.icecache.kvcache.FullCache;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.Session;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Prefill speed of this engine: BOS + prompt through {@link Session#prefill} (batched matrix
 * products, logits of the last position) over a fresh full KV cache per run, timed from the call
 * to its return; one unmeasured run of the first 64 prompt tokens warms up the JIT.
 */
final class EnginePrefillBenchmark {

    private static final int WARMUP_TOKENS = 64;

    /**
     * The figures of one engine's prefills.
     *
     * @param promptTokens tokens prefilled per run, BOS included
     * @param speed prefill tokens per second of each measured run
     */
    record Result(int promptTokens, DecodeSpeed speed) {
    }

    private EnginePrefillBenchmark() {
    }

    static Result measure(Path modelFile, String prompt, int context, int runs) throws IOException {
        try (LlamaModel model = LlamaModel.load(modelFile, new LoadOptions(null, context))) {
            int[] tokens = EngineDecodeBenchmark.withBos(model, prompt);
            if (tokens.length > context) {
                throw new IllegalArgumentException("the prefill prompt has " + tokens.length + " tokens, more than its"
                        + " context " + context + "; lower --prefill-tokens");
            }
            prefillSeconds(model, tokens, Math.min(WARMUP_TOKENS, tokens.length));
            double[] speeds = new double[runs];
            for (int run = 0; run < runs; run++) {
                speeds[run] = tokens.length / prefillSeconds(model, tokens, tokens.length);
            }
            return new Result(tokens.length, new DecodeSpeed("icecache", speeds));
        }
    }

    private static double prefillSeconds(LlamaModel model, int[] tokens, int n) {
        Session session = model.newSession(new FullCache(model.cacheShape()));
        long start = System.nanoTime();
        session.prefill(tokens, 0, n, true);
        return (System.nanoTime() - start) / 1e9;
    }
}
