package dev.icecache.bench.retrieval;

import dev.icecache.model.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded haystacks in a model's own vocabulary (evaluation.md "passkey / needle accuracy"):
 * filler prose cut into sentences and repeated as needed, a needle planted at a sentence
 * boundary at the asked depth, and a question whose answer is the needle's value.
 *
 * <pre>
 *   keys = 1   needle   "The pass key is 48213. Remember it."
 *              question "What is the pass key? The pass key is"
 *   keys = k   k needles "The key of amber is 48213." (distinct words and values); one is asked
 *              at the depth, the k-1 others sit at random sentence boundaries of the body;
 *              question "What is the key of amber? The key of amber is"
 * </pre>
 *
 * Each sentence, needle and question is tokenized on its own (a SentencePiece vocabulary puts
 * its word-start mark on each) and the pieces are concatenated, so every planted token's
 * position is known exactly. Depth d places the asked needle at the boundary (between filler
 * sentences and distractor needles) nearest to d% of the body without it. The length counts
 * every prompt token (BOS, body, question); the filler's last sentence is cut to fit it.
 */
public final class HaystackGenerator {

    /** Words naming the keys of multi-key haystacks (at most this many keys). */
    static final String[] KEY_WORDS = {"amber", "basalt", "cobalt", "delta", "ember", "fjord", "garnet", "harbor",
        "indigo", "juniper", "kestrel", "lantern", "meadow", "nectar", "orchid", "pewter", "quartz", "raven",
        "saffron", "tundra"};

    /** Largest number of keys per haystack. */
    public static final int MAX_KEYS = KEY_WORDS.length;

    private static final String SENTENCE_END = "(?<!\\bMrs?\\.)(?<!\\bDr\\.)(?<!\\bSt\\.)(?<=[.!?][\"'\u201D\u2019]?)\\s+";

    private final Tokenizer tokenizer;
    private final int context;
    private final int[][] sentences; // [sentence][tokens] of the filler

    /**
     * @param tokenizer the model's tokenizer
     * @param filler prose to cut into sentences (at least two)
     * @param context the model's context length: a prompt plus its answer must fit
     * @throws IllegalArgumentException when the filler holds fewer than two sentences
     */
    public HaystackGenerator(Tokenizer tokenizer, String filler, int context) {
        String[] parts = filler.strip().split(SENTENCE_END);
        List<int[]> tokens = new ArrayList<>();
        for (String p : parts) {
            String s = p.replaceAll("\\s+", " ").strip();
            if (!s.isEmpty()) {
                tokens.add(tokenizer.encode(s));
            }
        }
        if (tokens.size() < 2) {
            throw new IllegalArgumentException("filler text has " + tokens.size() + " sentence(s); give prose of at least"
                    + " two sentences (e.g. --filler examples/texts/the-rectory-at-hollowmere.txt)");
        }
        this.tokenizer = tokenizer;
        this.context = context;
        this.sentences = tokens.toArray(new int[0][]);
    }

    /** Sentences the filler was cut into. */
    public int sentences() {
        return sentences.length;
    }

    /**
     * The seed of one trial's haystack, so each haystack depends on its own coordinates only
     * and not on which others a run generates.
     */
    public static long trialSeed(long seed, int length, int depthPercent, int keys, int trial) {
        long h = seed;
        for (long v : new long[] {length, depthPercent, keys, trial}) {
            h = Long.rotateLeft((h ^ v) * 0x9E3779B97F4A7C15L, 29);
        }
        return h;
    }

    /**
     * A haystack of exactly {@code length} prompt tokens.
     *
     * @param depthPercent 0..100: where the asked needle goes in the body
     * @param keys 1 (passkey) .. {@link #MAX_KEYS} (multi-key)
     * @param seed picks the value(s), key words, the asked key, the filler's first sentence and
     *             the distractors' places
     * @throws IllegalArgumentException when the depth or keys are out of range, the length cannot
     *         hold BOS, needles and question, or the length plus the answer exceeds the context
     */
    public Haystack generate(int length, int depthPercent, int keys, long seed) {
        if (depthPercent < 0 || depthPercent > 100) {
            throw new IllegalArgumentException("depth=" + depthPercent + " must be within [0, 100] (percent of the body)");
        }
        if (keys < 1 || keys > MAX_KEYS) {
            throw new IllegalArgumentException("keys=" + keys + " must be within [1, " + MAX_KEYS + "]");
        }
        SplittableRandom random = new SplittableRandom(seed);
        String[] values = distinctValues(random, keys);
        String[] words = keys == 1 ? null : pickWords(random, keys);
        int asked = random.nextInt(keys);
        int[][] needles = new int[keys][];
        for (int i = 0; i < keys; i++) {
            needles[i] = tokenizer.encode(needleText(words == null ? null : words[i], values[i]));
        }
        int[] question = tokenizer.encode(questionText(words == null ? null : words[asked]));
        int[] answer = tokenizer.encode(values[asked]);
        int valueOffset = lastIndexOf(needles[asked], answer);
        if (valueOffset < 0) {
            throw new IllegalStateException("the tokenizer merges the value '" + values[asked] + "' with its neighbours in '"
                    + needleText(words == null ? null : words[asked], values[asked])
                    + "', so its tokens are not the value's own; this vocabulary cannot be scored by exact match");
        }
        if ((long) length + answer.length > context) {
            throw new IllegalArgumentException("length=" + length + " plus the answer's " + answer.length
                    + " tokens exceeds the context length=" + context + "; use lengths <= " + (context - answer.length));
        }
        int bos = tokenizer.bos() >= 0 ? 1 : 0;
        int planted = 0;
        for (int[] n : needles) {
            planted += n.length;
        }
        int fillerTokens = length - bos - question.length - planted;
        if (fillerTokens < 0) {
            throw new IllegalArgumentException("length=" + length + " cannot hold BOS, " + keys + " key sentence(s) and"
                    + " the question (" + (bos + planted + question.length) + " tokens); use a longer length");
        }
        List<int[]> units = filler(random, fillerTokens);
        for (int i = 0; i < keys; i++) {
            if (i != asked) {
                units.add(random.nextInt(units.size() + 1), needles[i]);
            }
        }
        int bodyWithout = length - bos - question.length - needles[asked].length;
        int boundary = nearestBoundary(units, Math.round(depthPercent / 100.0 * bodyWithout));
        units.add(boundary, needles[asked]);
        int[] prompt = new int[length];
        int needleStart = concatenate(units, boundary, bos, prompt);
        int bodyEnd = length - question.length;
        System.arraycopy(question, 0, prompt, bodyEnd, question.length);
        return new Haystack(prompt, answer, values[asked], needleStart + valueOffset, needleStart, bos, bodyEnd,
                depthPercent, keys);
    }

    /** Writes BOS (when {@code bos} is 1) and the units into {@code prompt}; returns where unit {@code marked} starts. */
    private int concatenate(List<int[]> units, int marked, int bos, int[] prompt) {
        int at = 0;
        if (bos == 1) {
            prompt[at++] = tokenizer.bos();
        }
        int markedStart = -1;
        for (int u = 0; u < units.size(); u++) {
            markedStart = u == marked ? at : markedStart;
            System.arraycopy(units.get(u), 0, prompt, at, units.get(u).length);
            at += units.get(u).length;
        }
        return markedStart;
    }

    static String needleText(String word, String value) {
        return word == null ? "The pass key is " + value + ". Remember it." : "The key of " + word + " is " + value + ".";
    }

    static String questionText(String word) {
        return word == null ? "What is the pass key? The pass key is"
                : "What is the key of " + word + "? The key of " + word + " is";
    }

    /** Filler sentences from a random one on, wrapping around, the last cut so they hold exactly {@code tokens}. */
    private List<int[]> filler(SplittableRandom random, int tokens) {
        List<int[]> units = new ArrayList<>();
        int s = random.nextInt(sentences.length);
        for (int left = tokens; left > 0; s = (s + 1) % sentences.length) {
            int[] sentence = sentences[s];
            int take = Math.min(left, sentence.length);
            units.add(take == sentence.length ? sentence : Arrays.copyOf(sentence, take));
            left -= take;
        }
        return units;
    }

    /** The unit index (0 .. size) whose start offset is nearest {@code target}; the earlier one on a tie. */
    private static int nearestBoundary(List<int[]> units, long target) {
        int best = 0;
        long bestDistance = Math.abs(target);
        long offset = 0;
        for (int u = 0; u < units.size(); u++) {
            offset += units.get(u).length;
            long distance = Math.abs(offset - target);
            if (distance < bestDistance) {
                best = u + 1;
                bestDistance = distance;
            }
        }
        return best;
    }

    private static String[] distinctValues(SplittableRandom random, int n) {
        String[] values = new String[n];
        for (int i = 0; i < n; i++) {
            String v;
            do {
                v = Integer.toString(random.nextInt(10_000, 100_000));
            } while (indexOf(values, i, v) >= 0);
            values[i] = v;
        }
        return values;
    }

    private static String[] pickWords(SplittableRandom random, int n) {
        String[] words = KEY_WORDS.clone();
        for (int i = 0; i < n; i++) { // partial Fisher-Yates
            int j = i + random.nextInt(words.length - i);
            String t = words[i];
            words[i] = words[j];
            words[j] = t;
        }
        return Arrays.copyOf(words, n);
    }

    private static int indexOf(String[] values, int n, String v) {
        for (int i = 0; i < n; i++) {
            if (values[i].equals(v)) {
                return i;
            }
        }
        return -1;
    }

    /** Start of the last occurrence of {@code part} in {@code whole}, or -1. */
    static int lastIndexOf(int[] whole, int[] part) {
        for (int start = whole.length - part.length; start >= 0; start--) {
            int i = 0;
            while (i < part.length && whole[start + i] == part[i]) {
                i++;
            }
            if (i == part.length) {
                return start;
            }
        }
        return -1;
    }
}
