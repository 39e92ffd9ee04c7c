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
 * <p>llama.cpp quantizes the activations for all its quantized dots (Q8_K / Q8_0 / Q8_1), this
 * engine only when decoding on Q8_0 and K-quant rows, so logits differ slightly. This test compares free-running greedy texts
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
                String ours = model.tokenizer().decode(printedBeforeEos(model.tokenizer(), generated));
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

    /**
     * The tokens whose text llama.cpp's server prints when {@code generated} ends at EOS (not
     * after {@link #STEPS} or a near tie): it holds back a trailing incomplete UTF-8 sequence
     * until the next token and drops it when generation stops ({@code validate_utf8} in its
     * server), so the byte tokens from that sequence's lead byte on are left out.
     */
    private static int[] printedBeforeEos(Tokenizer tokenizer, int[] generated) {
        if (generated.length == STEPS) {
            return generated;
        }
        int[] ends = new int[generated.length];
        int length = 0;
        for (int i = 0; i < generated.length; i++) {
            length += tokenizer.tokenBytes(generated[i]).length;
            ends[i] = length;
        }
        byte[] tail = new byte[Math.min(4, length)];
        int filled = 0;
        for (int i = generated.length - 1; i >= 0 && filled < tail.length; i--) {
            byte[] bytes = tokenizer.tokenBytes(generated[i]);
            for (int b = bytes.length - 1; b >= 0 && filled < tail.length; b--) {
                tail[filled++] = bytes[b]; // tail[k] is the byte k+1 from the end
            }
        }
        int held = 0;
        for (int k = 1; k <= tail.length; k++) {
            int c = tail[k - 1] & 0xFF;
            if ((c & 0xE0) == 0xC0 && k < 2 || (c & 0xF0) == 0xE0 && k < 3 || (c & 0xF8) == 0xF0 && k < 4) {
                held = k;
                break;
            }
        }
        int kept = generated.length;
        while (kept > 0 && ends[kept - 1] > length - held) {
            kept--;
        }
        return Arrays.copyOf(generated, kept);
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
