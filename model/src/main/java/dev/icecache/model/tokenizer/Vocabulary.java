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

    public int size() {
        return tokens.length;
    }
}
