package dev.icecache.model.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small Llama-3-style byte-level vocabulary for tests: the 256 byte characters, merges
 * learned by plain BPE training on a fixed text (pre-tokenized with the Llama 3 splitter), and
 * Llama 3's control tokens at the end.
 */
public final class SyntheticVocabularies {

    /** Training text: English, digits, punctuation, accents, CJK and emoji. */
    static final String CORPUS = String.join("\n",
            "The quick brown fox jumps over the lazy dog. The dog didn't care; it's the fox's day!",
            "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.",
            "Numbers: 12345, 3.14159, 2024-06-07 and 1,000,000 dollars ($) + 50% more <= 100 >= 7.",
            "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00fcber Stra\u00dfe \u4e2d\u6587\u5b57 \u65e5\u672c\u8a9e \ud83d\ude00\ud83d\ude80 emoji!",
            "    indented code(x) { return x * 2; }\n\n\ttabs\tand\r\nwindows lines",
            "the the the and and of of to to in in it it was was she she he he");

    /** Id of {@code <|begin_of_text|>}. */
    public static final String BOS = "<|begin_of_text|>";
    /** Id of {@code <|end_of_text|>}. */
    public static final String EOS = "<|end_of_text|>";

    private SyntheticVocabularies() {
    }

    /** The vocabulary with {@code merges} merges, {@code tokenizer.ggml.pre = llama-bpe}. */
    public static Vocabulary llama3(int merges) {
        List<String> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(String.valueOf(ByteLevelAlphabet.charOf(b)));
        }
        List<String> mergeList = train(merges);
        for (String merge : mergeList) {
            String joined = merge.replace(" ", "");
            if (!tokens.contains(joined)) {
                tokens.add(joined);
            }
        }
        int normal = tokens.size();
        tokens.add(BOS);
        tokens.add(EOS);
        tokens.add("<|eot_id|>");
        int[] types = new int[tokens.size()];
        for (int i = 0; i < types.length; i++) {
            types[i] = i < normal ? TokenType.NORMAL : TokenType.CONTROL;
        }
        return new Vocabulary("gpt2", "llama-bpe", tokens.toArray(String[]::new), null, types, mergeList,
                normal, normal + 1, -1, true);
    }

    private static List<String> train(int count) {
        int[] cps = CORPUS.codePoints().toArray();
        IntList ends = new IntList(64);
        PreTokenizer.LLAMA3.split(cps, 0, cps.length, ends);
        List<List<String>> words = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < ends.size(); i++) {
            List<String> symbols = new ArrayList<>();
            for (byte b : new String(cps, start, ends.get(i) - start).getBytes(StandardCharsets.UTF_8)) {
                symbols.add(String.valueOf(ByteLevelAlphabet.charOf(b & 0xFF)));
            }
            words.add(symbols);
            start = ends.get(i);
        }
        List<String> merges = new ArrayList<>();
        for (int m = 0; m < count; m++) {
            Map<String, Integer> counts = new LinkedHashMap<>();
            for (List<String> word : words) {
                for (int i = 0; i + 1 < word.size(); i++) {
                    counts.merge(word.get(i) + " " + word.get(i + 1), 1, Integer::sum);
                }
            }
            String best = null;
            int bestCount = 0;
            for (Map.Entry<String, Integer> e : counts.entrySet()) {
                if (e.getValue() > bestCount) {
                    best = e.getKey();
                    bestCount = e.getValue();
                }
            }
            if (best == null) {
                break;
            }
            merges.add(best);
            String[] parts = best.split(" ");
            for (List<String> word : words) {
                for (int i = 0; i + 1 < word.size(); i++) {
                    if (word.get(i).equals(parts[0]) && word.get(i + 1).equals(parts[1])) {
                        word.set(i, parts[0] + parts[1]);
                        word.remove(i + 1);
                    }
                }
            }
        }
        return merges;
    }

    /** Id of each piece, for assertions. */
    static Map<String, Integer> ids(Vocabulary v) {
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < v.size(); i++) {
            ids.put(v.tokens()[i], i);
        }
        return ids;
    }
}
