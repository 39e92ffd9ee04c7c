package dev.icecache.model.tokenizer;

import java.util.List;

/**
 * A model's vocabulary as its file stores it, independent of the file format (GGUF
 * {@code tokenizer.ggml.*} keys, or llama2.c's {@code tokenizer.bin}).
 *
 * @param model the tokenizer family: {@code "llama"} (SentencePiece BPE with byte fallback)
 *              or {@code "gpt2"} (byte-level BPE with merges, as Llama 3 uses)
 * @param pre the GGUF pre-tokenizer name ({@code tokenizer.ggml.pre}), or null when absent
 * @param tokens the piece of every token id
 * @param scores per token score (SentencePiece merge priority), or null when absent
 * @param tokenTypes per token type (1 normal, 2 unknown, 3 control, 4 user defined, 5 unused,
 *                   6 byte), or null when absent
 * @param merges BPE merges in priority order ("a b"), empty for SentencePiece
 * @param bos beginning-of-sequence id, or -1
 * @param eos end-of-sequence id, or -1
 * @param unk unknown id, or -1
 * @param addBos whether encoding a prompt starts with BOS
 */
public record Vocabulary(String model, String pre, String[] tokens, float[] scores, int[] tokenTypes,
                         List<String> merges, int bos, int eos, int unk, boolean addBos) {

    /**
     * Checks that the parts agree.
     *
     * @throws IllegalArgumentException naming the first inconsistency
     */
    public Vocabulary {
        if (tokens == null || tokens.length == 0) {
            throw new IllegalArgumentException("vocabulary has no tokens; the tokenizer data is missing");
        }
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] == null) {
                throw new IllegalArgumentException("vocabulary token " + i + " is null");
            }
        }
        if (scores != null && scores.length != tokens.length) {
            throw new IllegalArgumentException("vocabulary has " + scores.length + " scores for "
                    + tokens.length + " tokens; the tokenizer data is corrupt");
        }
        if (tokenTypes != null && tokenTypes.length != tokens.length) {
            throw new IllegalArgumentException("vocabulary has " + tokenTypes.length + " token types for "
                    + tokens.length + " tokens; the tokenizer data is corrupt");
        }
        merges = merges == null ? List.of() : merges;
        checkSpecial("bos", bos, tokens.length);
        checkSpecial("eos", eos, tokens.length);
        checkSpecial("unk", unk, tokens.length);
    }

    private static void checkSpecial(String name, int id, int size) {
        if (id < -1 || id >= size) {
            throw new IllegalArgumentException("vocabulary " + name + " token id=" + id
                    + " is outside [0, " + size + "); use -1 for none");
        }
    }

    /** Number of tokens. */
    public int size() {
        return tokens.length;
    }
}
