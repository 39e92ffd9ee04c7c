package dev.icecache.operators.tokenize;

import java.util.Arrays;

import dev.icecache.model.LlamaModel;
import dev.icecache.model.chat.ChatFrame;
import dev.icecache.model.chat.ChatTemplateException;
import dev.icecache.model.tokenizer.TokenType;
import dev.icecache.model.tokenizer.Tokenizer;

/**
 * The token ids a {@link PromptTemplate} puts around a document's text for one model. Without a
 * chat template only {@code recap} and {@code instruction} are set (the template's suffix on its
 * own); with one, every context the decoder builds is a chat turn:
 *
 * <pre>
 *   document:        BOS open [prefix document suffix] close   summary
 *   rolling summary: ... text suffix close  summary  resume  text ...
 *   refine segment:  BOS open suffix running-summary text ... suffix close  summary
 *   map-reduce:      BOS open text ... suffix close  summary;  BOS open summaries suffix close  summary
 * </pre>
 *
 * where [..] is the user message's plain text (stripped when the template trims it), open and
 * close the template's own tokens (special tokens parsed), resume the end of the assistant's turn
 * and the header of a new user turn.
 *
 * @param open chat: the template's tokens before the user message, less a BOS the template writes
 *             (the decoder starts every context with BOS); empty without chat
 * @param recap the suffix on its own (the label before a refine segment's running summary)
 * @param instruction tokens run before each rolling or segment summary: the suffix, and with chat
 *                    {@code close}
 * @param close chat: the end of the user turn and the assistant's header; empty without chat
 * @param resume chat: the tokens after a rolling summary, before the document goes on; empty
 *               without chat
 * @param trimsContent true when the chat template strips whitespace around the user message
 * @param endsAtControl true when a summary ends at any control token (a chat's end of turn), not
 *                      only at end-of-sequence
 */
public record PromptTokens(int[] open, int[] recap, int[] instruction, int[] close, int[] resume,
                           boolean trimsContent, boolean endsAtControl) {

    private static final int[] NONE = new int[0];

    /** Plain text without a chat template: the instruction is all there is. */
    public static PromptTokens plain(int[] instruction) {
        return new PromptTokens(NONE, instruction, instruction, NONE, NONE, false, false);
    }

    /**
     * The tokens of {@code prompt} for {@code model}.
     *
     * @throws IllegalArgumentException with one line advising to write the format into the prompt
     *         instead, when the prompt is a chat and the model has no template or its template
     *         cannot be rendered
     */
    public static PromptTokens of(PromptTemplate prompt, LlamaModel model) {
        Tokenizer tokenizer = model.tokenizer();
        int[] suffix = prompt.instructionTokens(tokenizer);
        if (!prompt.chat()) {
            return plain(suffix);
        }
        ChatFrame frame;
        try {
            frame = ChatFrame.of(model.chatTemplate(), tokenizer, prompt.system());
        } catch (ChatTemplateException | IllegalStateException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        int[] open = frame.open();
        if (open.length > 0 && open[0] == tokenizer.bos()) {
            open = Arrays.copyOfRange(open, 1, open.length);
        }
        int[] instruction = Arrays.copyOf(suffix, suffix.length + frame.close().length);
        System.arraycopy(frame.close(), 0, instruction, suffix.length, frame.close().length);
        return new PromptTokens(open, suffix, instruction, frame.close(), frame.resume(), frame.trimsContent(), true);
    }

    /**
     * Positions a chat adds to each context and rolling summary beyond the instruction: the larger
     * of {@code open} and {@code resume} (0 without chat).
     */
    public int turnOverhead() {
        return Math.max(open.length, resume.length);
    }

    /** True when {@code token} ends a summary of a model with these token types (null: only EOS does). */
    public boolean ends(int token, int eos, int[] tokenTypes) {
        return token == eos || (endsAtControl && tokenTypes != null && token >= 0 && token < tokenTypes.length
                && tokenTypes[token] == TokenType.CONTROL);
    }
}
