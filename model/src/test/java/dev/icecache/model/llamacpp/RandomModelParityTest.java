package dev.icecache.model.llamacpp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.FullCache;
import dev.icecache.model.GgufCopy;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.Session;
import dev.icecache.model.synthetic.RandomModels;
import dev.icecache.model.synthetic.WeightTypes;
import dev.icecache.model.tensor.GgmlType;
import dev.icecache.model.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Greedy decoding of random-weight models against llama.cpp, 64 steps after BOS + a prompt: in
 * each K-quant and Q5 type (rows of 256, so the K-quant tensors are really K-quants), the
 * Q4_K_M mix, and the qwen2 architecture (F32 and Q4_K_M).
 *
 * <p>llama.cpp quantizes the activations for its K-quant and Q5 dots (Q8_K / Q8_0), this engine
 * multiplies in float, so logits differ slightly. This test compares free-running greedy texts
 * (byte tokens included); {@link LogitMarginParityTest} measures llama.cpp's logit margins on a
 * teacher-forced path and checks them against per-type tolerances. Here the greedy tokens are compared at
 * every step up to the first one where this engine's top-2 logit margin is at most
 * {@link #LOGIT_TOLERANCE} (a near tie either engine may break differently; later steps then
 * continue different texts), after each of eight prompts. The test fails when that leaves fewer
 * than {@link #MIN_COMPARED_STEPS} steps compared in all. The models' q and k weights are scaled
 * by {@link #ATTENTION_GAIN} so that attention is sharp (with near-uniform attention a wrong RoPE
 * would go unnoticed: checked by breaking it), and the classifier by {@link #CLASSIFIER_GAIN}
 * (logits of a few units; the tolerance is in those units).
 */
class RandomModelParityTest {

    /** The logit difference allowed between the two engines (activation quantization). */
    static final float LOGIT_TOLERANCE = 0.5f;
    private static final int STEPS = 64;
    static final double ATTENTION_GAIN = 4;
    static final double CLASSIFIER_GAIN = 16;
    private static final int MIN_COMPARED_STEPS = 16;
    private static final List<String> PROMPTS = List.of("the quick brown fox", "once upon a time", "hello world",
            "a b c d e f g", "numbers 1 2 3", "jumps over the lazy dog", "it was the best of times", "call me");
    static final RandomModels.Shape SHAPE = new RandomModels.Shape(256, 512, 2, 4, 2, 400, 256);

    @TempDir
    Path work;

    @ParameterizedTest
    @ValueSource(strings = {"llama/Q4_K", "llama/Q5_K", "llama/Q6_K", "llama/Q5_0", "llama/Q5_1", "llama/Q4_K_M",
        "qwen2/F32", "qwen2/Q4_K_M"})
    void shouldDecodeGreedilyAsLlamaCppWhereTheMarginExceedsTheTolerance(String archAndMix) throws Exception {
        String arch = archAndMix.substring(0, archAndMix.indexOf('/'));
        String mix = archAndMix.substring(archAndMix.indexOf('/') + 1);
        Path written = work.resolve("random-" + arch + "-" + mix + ".gguf");
        WeightTypes types = mix.equals("Q4_K_M") ? WeightTypes.q4KM() : WeightTypes.uniform(GgmlType.valueOf(mix));
        RandomModels.write(written, arch, SHAPE, types, mix, 5, false);
        // q and k scaled up so that attention is sharp and depends on RoPE (uniform attention would not);
        // the classifier scaled up so that the logits spread beyond the tolerance
        Path gguf = work.resolve("sharp-" + written.getFileName());
        GgufCopy.copy(written, gguf, null, name -> name.endsWith("attn_q.weight") || name.endsWith("attn_k.weight")
                ? ATTENTION_GAIN : name.equals("output.weight") ? CLASSIFIER_GAIN : 1);
        LlamaCppProcess llamaCpp = new LlamaCppProcess();
        PROMPTS.forEach(prompt -> llamaCpp.generate(prompt, STEPS));
        List<String> llamaTexts = llamaCpp.run(gguf, 1, SHAPE.contextLength(), work);

        try (LlamaModel model = LlamaModel.load(gguf, LoadOptions.defaults())) {
            int total = 0;
            for (int p = 0; p < PROMPTS.size(); p++) {
                int[] generated = greedyWhileDecided(model, PROMPTS.get(p));
                total += generated.length;
                String ours = model.tokenizer().decode(generated);
                String llamaText = llamaTexts.get(p);
                String llamaPrefix = llamaText.substring(0, Math.min(llamaText.length(), ours.length()));
                assertEquals(ours, llamaPrefix, archAndMix + ": greedy text of the first " + generated.length
                        + " steps after '" + PROMPTS.get(p) + "' vs llama.cpp");
            }
            assertTrue(total >= MIN_COMPARED_STEPS, archAndMix + ": only " + total + " steps had a margin above "
                    + LOGIT_TOLERANCE + "; the comparison says too little");
        }
    }

    /**
     * Greedy tokens after BOS + prompt, at most {@link #STEPS}, ending before the first step whose
     * top-2 margin is at most {@link #LOGIT_TOLERANCE} (or that picks EOS).
     */
    private static int[] greedyWhileDecided(LlamaModel model, String prompt) {
        Tokenizer tokenizer = model.tokenizer();
        int[] tokens = LlamaCppParityTest.bosAndPrompt(tokenizer, prompt);
        Session session = model.newSession(new FullCache(model.cacheShape()));
        float[] logits = session.prefill(tokens, 0, tokens.length, true);
        int[] generated = new int[STEPS];
        int count = 0;
        while (count < STEPS) {
            int best = LlamaCppParityTest.argmax(logits);
            if (margin(logits, best) <= LOGIT_TOLERANCE || best == tokenizer.eos()) {
                break;
            }
            generated[count++] = best;
            logits = session.step(best);
        }
        return Arrays.copyOf(generated, count);
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
