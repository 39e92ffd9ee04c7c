package dev.icecache.model.llamacpp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.FullCache;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.Session;
import dev.icecache.model.synthetic.RandomModels;
import dev.icecache.model.synthetic.WeightTypes;
import dev.icecache.model.tensor.GgmlType;
import dev.icecache.model.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Greedy decoding of random-weight models in each new tensor type (rows of 256, so the K-quant
 * tensors are really K-quants) against llama.cpp: 64 steps after BOS + a prompt.
 *
 * <p>llama.cpp quantizes the activations for its K-quant and Q5 dots (Q8_K / Q8_0), this engine
 * multiplies in float, so logits differ slightly; java-llama.cpp 4.1.0 does not expose
 * llama.cpp's logits (n_probs aborts the native process), so the greedy tokens are compared at
 * every step up to the first one where this engine's top-2 logit margin is at most
 * {@link #LOGIT_TOLERANCE} (a near tie either engine may break differently; later steps then
 * continue different texts). The test fails when that leaves fewer than
 * {@link #MIN_COMPARED_STEPS} steps compared.
 */
class KQuantParityTest {

    /** The logit difference allowed between the two engines (activation quantization). */
    static final float LOGIT_TOLERANCE = 0.05f;
    private static final int STEPS = 64;
    private static final int MIN_COMPARED_STEPS = 8;
    private static final String PROMPT = "the quick brown fox";
    private static final RandomModels.Shape SHAPE = new RandomModels.Shape(256, 512, 2, 4, 2, 400, 256);

    @TempDir
    Path work;

    @ParameterizedTest
    @ValueSource(strings = {"Q4_K", "Q5_K", "Q6_K", "Q5_0", "Q5_1", "Q4_K_M"})
    void shouldDecodeGreedilyAsLlamaCppWhereTheMarginExceedsTheTolerance(String mix) throws Exception {
        Path gguf = work.resolve("random-" + mix + ".gguf");
        WeightTypes types = mix.equals("Q4_K_M") ? WeightTypes.q4KM() : WeightTypes.uniform(GgmlType.valueOf(mix));
        RandomModels.write(gguf, SHAPE, types, mix, 5, true); // tied: logits spread widely
        String llamaText = new LlamaCppProcess().generate(PROMPT, STEPS).run(gguf, 1, SHAPE.contextLength(), work).get(0);

        try (LlamaModel model = LlamaModel.load(gguf, LoadOptions.defaults())) {
            Tokenizer tokenizer = model.tokenizer();
            int[] prompt = tokenizer.encode(PROMPT, true);
            int[] tokens = new int[prompt.length + 1];
            tokens[0] = tokenizer.bos();
            System.arraycopy(prompt, 0, tokens, 1, prompt.length);
            Session session = model.newSession(new FullCache(model.cacheShape()));
            float[] logits = session.prefill(tokens, 0, tokens.length, true);
            int[] generated = new int[STEPS];
            int compared = 0;
            while (compared < STEPS) {
                int best = LlamaCppParityTest.argmax(logits);
                if (margin(logits, best) <= LOGIT_TOLERANCE || best == tokenizer.eos()) {
                    break;
                }
                generated[compared++] = best;
                logits = session.step(best);
            }
            String ours = tokenizer.decode(Arrays.copyOf(generated, compared));
            assertTrue(compared >= MIN_COMPARED_STEPS, mix + ": only " + compared + " steps had a margin above "
                    + LOGIT_TOLERANCE + "; the comparison says too little");
            String llamaPrefix = llamaText.substring(0, Math.min(llamaText.length(), ours.length()));
            assertEquals(ours, llamaPrefix, mix + ": greedy text of the first " + compared + " steps vs llama.cpp");
        }
    }

    /** Largest logit minus the second largest. */
    private static float margin(float[] logits, int best) {
        float second = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < logits.length; i++) {
            if (i != best) {
                second = Math.max(second, logits[i]);
            }
        }
        return logits[best] - second;
    }

}
