package dev.icecache.model.llamacpp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.FullCache;
import dev.icecache.model.GgufCopy;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.Session;
import dev.icecache.model.compute.MatMul;
import dev.icecache.model.synthetic.RandomModels;
import dev.icecache.model.synthetic.WeightTypes;
import dev.icecache.model.tensor.GgmlType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Relative logits against llama.cpp on the random-weight models of {@link RandomModelParityTest}
 * (sharp attention, classifier scaled so that logits spread over a few units), in every weight
 * type and for {@code qwen2}, 64 steps after BOS + each of four prompts.
 *
 * <p>Both engines are teacher-forced on this engine's greedy path (llama.cpp gets the exact token
 * ids, so a near tie that the engines break differently does not end the comparison, and no text
 * has to be tokenized back to ids). At every step, with t this engine's greedy token, the
 * observable compared is the margin {@code logit[t] - max over other tokens of logit}: llama.cpp's
 * is measured by bisection on a logit bias on t ({@link LlamaCppOracle}; java-llama.cpp exposes no
 * logits, and softmax outputs would only give differences of logits anyway). The tokens whose
 * printed text is not unique in the synthetic vocabulary (the byte tokens, which print the same
 * characters as the character tokens or invalid UTF-8, and {@code <unk>}, {@code <s>}) are
 * excluded in both engines, so llama.cpp's pick is identified by its text.
 *
 * <p>Per type, with the tolerance T fixed below: the largest |ours - llama.cpp| margin difference
 * is at most T, and no step has llama.cpp preferring another token over t by more than T (which
 * any step where llama.cpp's top-2 margin exceeds T and its greedy token differs from ours
 * would). Margins are clamped to +-{@link #RANGE} on both sides; the bisection resolves
 * {@link #RESOLUTION}. {@link #shouldFailOnAPerturbedModel} shows that the check catches a model
 * that differs from llama.cpp's.
 */
class LogitMarginParityTest {

    private static final int STEPS = 64;
    private static final float RANGE = 32f;
    private static final int ITERATIONS = 13;
    /** The bisection's resolution: 2 * RANGE / 2^ITERATIONS. */
    static final float RESOLUTION = 2 * RANGE / (1 << ITERATIONS);
    private static final List<String> PROMPTS = List.of("numbers 1 2 3", "the quick brown fox", "once upon a time",
            "it was the best of times");

    @TempDir
    Path work;

    /** One model's comparison: steps compared, largest margin difference, smallest llama.cpp margin, the steps past the tolerance. */
    record Comparison(int steps, float maxDifference, float smallestLlamaMargin, List<String> worst,
            List<String> preferredOther) {
    }

    /**
     * The tolerance per model, in logits (the random models' margins reach about 12): twice or
     * more the largest difference measured with the K-quant int8 path on and off for the float
     * types, about 1.25 to 1.5 times it for the quantized ones (llama.cpp quantizes the activations
     * of every quantized product to Q8_0, Q8_1 or Q8_K; the sharp attention of these models
     * amplifies that rounding). BENCHMARKS.md, "Logit-margin parity", has the measured figures.
     */
    static final Map<String, Float> TOLERANCES = Map.ofEntries(Map.entry("llama/F32", 0.1f),
            Map.entry("llama/F16", 0.1f), Map.entry("llama/Q8_0", 0.75f), Map.entry("llama/Q4_0", 0.75f),
            Map.entry("llama/Q5_0", 1.0f), Map.entry("llama/Q5_1", 1.0f), Map.entry("llama/Q4_K", 1.25f),
            Map.entry("llama/Q5_K", 1.0f), Map.entry("llama/Q6_K", 1.0f), Map.entry("llama/Q4_K_M", 1.0f),
            Map.entry("qwen2/F32", 0.1f), Map.entry("qwen2/Q4_K_M", 1.0f));

    @ParameterizedTest
    @ValueSource(strings = {"llama/F32", "llama/F16", "llama/Q8_0", "llama/Q4_0", "llama/Q5_0", "llama/Q5_1",
        "llama/Q4_K", "llama/Q5_K", "llama/Q6_K", "llama/Q4_K_M", "qwen2/F32", "qwen2/Q4_K_M"})
    void shouldMatchLlamaCppLogitMarginsWithinTheTolerance(String archAndMix) throws Exception {
        float tolerance = TOLERANCES.get(archAndMix);
        Path gguf = sharpModel(archAndMix);
        Comparison c = compare(gguf, gguf, tolerance);
        System.out.printf(Locale.ROOT, "margin-parity %-14s kquant-int8=%s steps=%d max|diff|=%.4f tolerance=%.2f"
                + " min llama margin of ours=%.4f worst=%s%n", archAndMix, MatMul.kquantInt8ByDefault(), c.steps(),
                c.maxDifference(), tolerance, c.smallestLlamaMargin(), c.worst());
        assertEquals(STEPS * PROMPTS.size(), c.steps());
        assertEquals(List.of(), c.preferredOther(), archAndMix + ": steps where llama.cpp prefers another token by more"
                + " than " + tolerance);
        assertTrue(c.maxDifference() <= tolerance, archAndMix + ": max |margin difference| " + c.maxDifference()
                + " > " + tolerance + "; worst steps " + c.worst());
    }

    /** The same check with this engine on a copy whose layer-1 feed-forward output is scaled by 1.5. */
    @Test
    void shouldFailOnAPerturbedModel() throws Exception {
        Path gguf = sharpModel("llama/Q8_0");
        Path perturbed = work.resolve("perturbed.gguf");
        GgufCopy.copy(gguf, perturbed, null, name -> name.equals("blk.1.ffn_down.weight") ? 1.5 : 1);
        Comparison c = compare(gguf, perturbed, 0.5f);
        System.out.printf(Locale.ROOT, "margin-parity perturbed max|diff|=%.4f preferred-other=%d%n", c.maxDifference(),
                c.preferredOther().size());
        assertTrue(c.maxDifference() > 0.5f, "the perturbed model stays within the tolerance: " + c.maxDifference());
        assertFalse(c.preferredOther().isEmpty(), "no step of the perturbed model fails the greedy rule");
    }

    private Path sharpModel(String archAndMix) throws Exception {
        String arch = archAndMix.substring(0, archAndMix.indexOf('/'));
        String mix = archAndMix.substring(archAndMix.indexOf('/') + 1);
        Path written = work.resolve("random-" + arch + "-" + mix + ".gguf");
        WeightTypes types = mix.equals("Q4_K_M") ? WeightTypes.q4KM() : WeightTypes.uniform(GgmlType.valueOf(mix));
        RandomModels.write(written, arch, RandomModelParityTest.SHAPE, types, mix, 5, false);
        Path gguf = work.resolve("sharp-" + written.getFileName());
        ToDoubleFunction<String> gains = name -> name.endsWith("attn_q.weight") || name.endsWith("attn_k.weight")
                ? RandomModelParityTest.ATTENTION_GAIN
                : name.equals("output.weight") ? RandomModelParityTest.CLASSIFIER_GAIN : 1;
        GgufCopy.copy(written, gguf, null, gains);
        return gguf;
    }

    /** Ours on {@code ours}, llama.cpp on {@code reference}, teacher-forced on our greedy path. */
    private Comparison compare(Path reference, Path ours, float tolerance) throws Exception {
        List<int[]> contexts = new ArrayList<>();
        List<Integer> targets = new ArrayList<>();
        List<Float> ourMargins = new ArrayList<>();
        LlamaCppProcess llamaCpp = new LlamaCppProcess();
        try (LlamaModel model = LlamaModel.load(ours, LoadOptions.defaults())) {
            String[] pieces = model.vocabulary().tokens();
            boolean[] disabled = ambiguous(pieces);
            int[] disabledIds = java.util.stream.IntStream.range(0, pieces.length).filter(i -> disabled[i]).toArray();
            for (String prompt : PROMPTS) {
                int[] tokens = LlamaCppParityTest.bosAndPrompt(model.tokenizer(), prompt);
                Session session = model.newSession(new FullCache(model.cacheShape()));
                float[] logits = session.prefill(tokens, 0, tokens.length, true);
                int[] path = Arrays.copyOf(tokens, tokens.length + STEPS);
                for (int step = 0; step < STEPS; step++) {
                    int best = -1;
                    for (int i = 0; i < logits.length; i++) {
                        if (!disabled[i] && (best < 0 || logits[i] > logits[best])) {
                            best = i;
                        }
                    }
                    float second = Float.NEGATIVE_INFINITY;
                    for (int i = 0; i < logits.length; i++) {
                        if (!disabled[i] && i != best) {
                            second = Math.max(second, logits[i]);
                        }
                    }
                    int[] context = Arrays.copyOf(path, tokens.length + step);
                    contexts.add(context);
                    targets.add(best);
                    ourMargins.add(logits[best] - second);
                    llamaCpp.margin(context, disabledIds, best, piece(pieces[best], best == model.tokenizer().eos()),
                            RANGE, ITERATIONS);
                    path[tokens.length + step] = best;
                    logits = session.step(best);
                }
            }
        }
        List<String> answers = llamaCpp.run(reference, 1, RandomModelParityTest.SHAPE.contextLength(), work);
        float max = 0;
        float smallest = Float.POSITIVE_INFINITY;
        List<String> worst = new ArrayList<>();
        List<String> preferredOther = new ArrayList<>();
        for (int i = 0; i < answers.size(); i++) {
            float llama = Float.parseFloat(answers.get(i));
            float mine = Math.min(ourMargins.get(i), RANGE);
            float difference = Math.abs(mine - llama);
            String where = "prompt " + i / STEPS + " step " + i % STEPS + " token " + targets.get(i) + " ours "
                    + ourMargins.get(i) + " llama.cpp " + llama;
            smallest = Math.min(smallest, llama);
            if (difference > max) {
                max = difference;
                worst.add(0, where);
            }
            if (llama < -tolerance) {
                preferredOther.add(where);
            }
        }
        return new Comparison(answers.size(), max, smallest, worst.subList(0, Math.min(2, worst.size())),
                preferredOther);
    }

    /** The text llama.cpp prints for a token of the synthetic vocabulary ("" for EOS). */
    private static String piece(String token, boolean eos) {
        return eos ? "" : token.replace('\u2581', ' ');
    }

    /** Tokens whose printed text another token shares or that print no valid text: bytes, unk, BOS. */
    private static boolean[] ambiguous(String[] pieces) {
        boolean[] disabled = new boolean[pieces.length];
        for (int i = 0; i < pieces.length; i++) {
            disabled[i] = i < 2 || pieces[i].matches("<0x[0-9A-F]{2}>");
        }
        return disabled;
    }
}
