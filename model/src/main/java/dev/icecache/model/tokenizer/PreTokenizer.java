package dev.icecache.model.tokenizer;

import java.util.Locale;

/**
 * Splits text into words before byte-level BPE, chosen by GGUF {@code tokenizer.ggml.pre}.
 * Each splitter is a hand-written scanner equivalent to its regex, the way llama.cpp runs them
 * ({@code unicode_regex_split_custom_*}); every code point ends up in exactly one word. Words
 * are reported as their end offsets into the code point array.
 */
public enum PreTokenizer {

    /**
     * Llama 3 ({@code llama-bpe}, {@code llama3}, {@code llama-v3}): the regex
     * {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+};
     * a word that is itself a token skips the merges ({@code ignore_merges}).
     */
    LLAMA3 {
        @Override
        void split(int[] cps, int from, int to, IntList ends) {
            Llama3Split.split(cps, from, to, ends);
        }
    },

    /**
     * Qwen 2, 2.5 and 3 ({@code qwen2}): the Llama 3 regex with single digits ({@code \p{N}}
     * instead of {@code \p{N}{1,3}}); merges always apply.
     */
    QWEN2 {
        @Override
        void split(int[] cps, int from, int to, IntList ends) {
            Llama3Split.split(cps, from, to, 1, ends);
        }
    },

    /**
     * GPT-2 ({@code gpt-2}): {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)}.
     */
    GPT2 {
        @Override
        void split(int[] cps, int from, int to, IntList ends) {
            Gpt2Split.split(cps, from, to, ends);
        }
    },

    /**
     * llama.cpp's {@code default} pre-tokenizer, four splits applied one after the other:
     * {@code [\p{P}\$\+<=>\^~\|]+}, the GPT-2 regex, {@code \p{N}+}, {@code [0-9][0-9][0-9]}.
     */
    DEFAULT {
        @Override
        void split(int[] cps, int from, int to, IntList ends) {
            IntList step = new IntList(16);
            Gpt2Split.punctuationRuns(cps, from, to, step);
            IntList next = new IntList(step.size() * 2);
            forEachWord(from, step, (a, b) -> Gpt2Split.split(cps, a, b, next));
            IntList numbers = new IntList(next.size() + 4);
            forEachWord(from, next, (a, b) -> Gpt2Split.numberRuns(cps, a, b, numbers));
            forEachWord(from, numbers, (a, b) -> Gpt2Split.asciiDigitTriples(cps, a, b, ends));
        }
    };

    /** Appends to {@code ends} the end offset of every word of {@code cps[from, to)}, in order. */
    abstract void split(int[] cps, int from, int to, IntList ends);

    /** Whether a word that is a token on its own skips the merges. */
    boolean ignoresMerges() {
        return this == LLAMA3;
    }

    /**
     * The pre-tokenizer named by GGUF {@code tokenizer.ggml.pre}; null or absent means
     * {@code default}, as in llama.cpp.
     *
     * @throws IllegalArgumentException for a name this engine does not implement
     */
    public static PreTokenizer forName(String pre) {
        if (pre == null) {
            return DEFAULT;
        }
        switch (pre.toLowerCase(Locale.ROOT)) {
            case "default":
                return DEFAULT;
            case "llama-bpe":
            case "llama3":
            case "llama-v3":
                return LLAMA3;
            case "gpt-2":
            case "gpt2":
                return GPT2;
            case "qwen2":
                return QWEN2;
            default:
                throw new IllegalArgumentException("unsupported tokenizer.ggml.pre '" + pre
                        + "'; supported: llama-bpe (llama3, llama-v3), qwen2, gpt-2, default");
        }
    }

    private interface WordAction {
        void apply(int from, int to);
    }

    private static void forEachWord(int from, IntList ends, WordAction action) {
        int start = from;
        for (int i = 0; i < ends.size(); i++) {
            int end = ends.get(i);
            action.apply(start, end);
            start = end;
        }
    }
}
