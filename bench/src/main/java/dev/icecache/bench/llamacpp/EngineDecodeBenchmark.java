package dev.icecache.bench.llamacpp;

import dev.icecache.kvcache.FullCache;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.Session;
import dev.icecache.model.tokenizer.Tokenizer;
import dev.icecache.model.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Decode speed of this engine: BOS + prompt is prefilled, then {@code tokens} greedy single-token
 * steps are timed, over a fresh full KV cache per run; one unmeasured run warms up the JIT.
 */
final class EngineDecodeBenchmark {

    private EngineDecodeBenchmark() {
    }

    static DecodeSpeed measure(Path modelFile, String prompt, int context, int tokens, int runs) throws IOException {
        try (LlamaModel model = LlamaModel.load(modelFile, new LoadOptions(null, context))) {
            int[] promptTokens = withBos(model, prompt);
            if (promptTokens.length + tokens > context) {
                throw new IllegalArgumentException("prompt (" + promptTokens.length + " tokens) + --tokens=" + tokens
                        + " exceeds --context=" + context + "; raise --context");
            }
            double[] speeds = new double[runs];
            for (int run = -1; run < runs; run++) {
                double speed = decodeOnce(model, promptTokens, tokens);
                if (run >= 0) {
                    speeds[run] = speed;
                }
            }
            return new DecodeSpeed("icecache", speeds);
        }
    }

    /** BOS followed by the prompt's tokens, as the model's tokenizer encodes it. */
    static int[] withBos(LlamaModel model, String prompt) {
        Tokenizer tokenizer = Tokenizers.create(model.vocabulary());
        int[] encoded = tokenizer.encode(prompt);
        int[] tokens = new int[encoded.length + 1];
        tokens[0] = tokenizer.bos();
        System.arraycopy(encoded, 0, tokens, 1, encoded.length);
        return tokens;
    }

    private static double decodeOnce(LlamaModel model, int[] promptTokens, int tokens) {
        Session session = model.newSession(new FullCache(model.cacheShape()));
        float[] logits = session.prefill(promptTokens, 0, promptTokens.length, true);
        long start = System.nanoTime();
        for (int i = 0; i < tokens; i++) {
            logits = session.step(argmax(logits));
        }
        return tokens / ((System.nanoTime() - start) / 1e9);
    }

    private static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
