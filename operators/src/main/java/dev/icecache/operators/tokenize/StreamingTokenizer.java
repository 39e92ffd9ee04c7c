package dev.icecache.operators.tokenize;

import dev.icecache.model.tokenizer.Tokenizer;
import dev.icecache.model.tokenizer.Vocabulary;

/**
 * Tokenizes a document that arrives in chunks so that the tokens equal tokenizing the whole
 * text at once. Text is cut only before a space that follows a non-space and precedes a
 * non-space: no token of either supported tokenizer family spans such a space, and BPE merges
 * on each side never look across it, so tokens of the two sides concatenate to the tokens of
 * the whole. The rest is carried in a {@link TokenizerCarry} until more text (or the end)
 * arrives.
 *
 * <pre>
 *   SentencePiece ("llama"): encode adds the leading "▁"; a continuation " word..." is encoded
 *                            as encode("word...") so that its space becomes that same "▁".
 *   byte-level BPE ("gpt2"): no prefix; a continuation " word..." is encoded as is, the
 *                            pre-tokenizer keeps " word" together either way.
 * </pre>
 *
 * The SentencePiece rule needs a vocabulary without pieces that hold "▁" after their first
 * character; the constructor checks that and refuses a vocabulary that breaks it.
 */
public final class StreamingTokenizer {

    /** Past this many carried characters without a safe boundary, the tail is cut anyway. */
    static final int MAX_CARRY_CHARS = 1 << 20;

    private static final char SPM_SPACE = '\u2581';

    private final Tokenizer tokenizer;
    private final boolean spaceIsPrefix;

    /** @param tokenizer the model's tokenizer, of family "llama" or "gpt2" */
    public StreamingTokenizer(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
        Vocabulary vocab = tokenizer.vocabulary();
        switch (vocab.model()) {
            case "llama" -> {
                spaceIsPrefix = true;
                checkNoInnerSpace(vocab);
            }
            case "gpt2" -> spaceIsPrefix = false;
            default -> throw new IllegalArgumentException("tokenizer model '" + vocab.model()
                    + "' is not supported for streamed tokenization; use a 'llama' or 'gpt2' vocabulary");
        }
    }

    /**
     * The result of one step.
     *
     * @param chunk tokens to emit now, or null when nothing is ready yet
     * @param carry the carry to keep for the document (irrelevant after its last chunk)
     */
    public record Step(TokenChunk chunk, TokenizerCarry carry) {
    }

    /**
     * Adds a chunk of text.
     *
     * @param docId the document's id, put on the emitted chunk
     * @param carry the document's carry ({@link TokenizerCarry#START} for a new document)
     * @param text the next chunk's characters
     * @param last true when this is the document's final chunk: everything is tokenized and
     *             a last {@link TokenChunk} is always emitted, possibly empty
     */
    public Step accept(String docId, TokenizerCarry carry, String text, boolean last) {
        String pending = carry.tail().concat(text);
        int cut = last ? pending.length() : safeCut(pending);
        if (cut <= 0 && !last) {
            return new Step(null, new TokenizerCarry(pending, carry.continuation(), carry.nextSeq()));
        }
        int[] tokens = encode(pending.substring(0, cut), carry.continuation());
        TokenChunk chunk = new TokenChunk(docId, carry.nextSeq(), tokens, last);
        String tail = pending.substring(cut);
        boolean continuation = !tail.isEmpty() && tail.charAt(0) == ' ';
        return new Step(chunk, new TokenizerCarry(tail, continuation, carry.nextSeq() + 1));
    }

    private int[] encode(String piece, boolean continuation) {
        if (piece.isEmpty()) {
            return new int[0];
        }
        if (continuation && spaceIsPrefix) {
            // the space this piece was cut before becomes the prefix "▁" that encode adds
            return tokenizer.encode(piece.substring(1));
        }
        return tokenizer.encode(piece);
    }

    /**
     * The last index {@code i > 0} such that {@code s[i]} is a space, {@code s[i-1]} is not
     * whitespace and {@code s[i+1]} exists and is not whitespace; 0 when there is none.
     */
    static int safeCut(String s) {
        for (int i = s.length() - 2; i > 0; i--) {
            if (s.charAt(i) == ' ' && !Character.isWhitespace(s.charAt(i - 1))
                    && !Character.isWhitespace(s.charAt(i + 1))) {
                return i;
            }
        }
        // NOTE: text without spaces (e.g. CJK) cannot be cut exactly; bound the memory instead,
        // accepting that tokens at this one cut may differ from whole-text tokenization
        return s.length() > MAX_CARRY_CHARS ? hardCut(s) : 0;
    }

    private static int hardCut(String s) {
        int i = s.length() - MAX_CARRY_CHARS / 2;
        return Character.isLowSurrogate(s.charAt(i)) ? i - 1 : i;
    }

    private static void checkNoInnerSpace(Vocabulary vocab) {
        String[] pieces = vocab.tokens();
        for (int id = 0; id < pieces.length; id++) {
            if (pieces[id] != null && pieces[id].indexOf(SPM_SPACE, 1) > 0) {
                throw new IllegalArgumentException("vocabulary piece id=" + id + " '" + pieces[id]
                        + "' holds a word boundary after its start, so chunked tokenization could differ"
                        + " from whole-text tokenization; use a vocabulary without such pieces");
            }
        }
    }
}
