package dev.icecache.operators.tokenize;

/**
 * What the keyed tokenizer step keeps per document between chunks.
 *
 * @param tail text read but not yet tokenized (it may still merge with what follows)
 * @param continuation true when the tail is a continuation cut at a word boundary, so it
 *                     starts with that boundary's space
 * @param nextSeq the {@code seq} of the next {@link TokenChunk} to emit
 */
public record TokenizerCarry(String tail, boolean continuation, int nextSeq) {

    /** The carry of a document not seen yet. */
    public static final TokenizerCarry START = new TokenizerCarry("", false, 0);
}
