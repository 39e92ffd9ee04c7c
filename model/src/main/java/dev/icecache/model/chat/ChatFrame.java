package dev.icecache.model.chat;

import java.util.ArrayList;
import java.util.List;

import dev.icecache.model.tokenizer.Tokenizer;

/**
 * The token ids a chat template puts around one user message, for a user text that is not
 * known in advance (a document streamed in chunks): {@code open}, the text (plain), then
 * {@code close}. Equals {@link ChatTemplate#encode} of [system,] user(text) with the generation
 * prompt.
 *
 * @param open the template's tokens before the user's text: BOS when the template writes it,
 *             the system turn when there is one, the user turn's header
 * @param close the template's tokens after the user's text: the end of the user turn and the
 *              generation prompt (the assistant turn's header)
 * @param resume the template's tokens between an assistant reply and the next user text: the
 *               end of the assistant turn and a new user turn's header (a rolling summary is
 *               such a reply, after which the document goes on in a new user turn)
 * @param trimsContent true when the template strips whitespace around the user's text
 *                     ({@code | trim}); the caller strips it the same way
 */
public record ChatFrame(int[] open, int[] close, int[] resume, boolean trimsContent) {

    /** A user text that shows whether the template trims it (the template must keep its letters). */
    private static final String PROBE = " probe ";
    private static final String REPLY = "reply";

    /**
     * The frame of {@code template} for a conversation with an optional system message.
     *
     * @param system the system message, or null for none
     * @throws ChatTemplateException when the template cannot be rendered or split
     */
    public static ChatFrame of(ChatTemplate template, Tokenizer tokenizer, String system) {
        List<ChatMessage> messages = new ArrayList<>();
        if (system != null) {
            messages.add(ChatMessage.system(system));
        }
        messages.add(ChatMessage.user(PROBE));
        List<String> parts = template.renderParts(messages, true);
        int user = parts.size() - 2; // the last content part
        boolean trims = !parts.get(user).equals(PROBE);
        int[] open = ChatTemplate.encodeParts(tokenizer, parts.subList(0, user));
        int[] close = ChatTemplate.encodeParts(tokenizer, parts.subList(user + 1, parts.size()));

        messages.add(new ChatMessage("assistant", REPLY));
        messages.add(ChatMessage.user(PROBE));
        List<String> turns = template.renderParts(messages, false);
        int[] resume = ChatTemplate.encodeParts(tokenizer, turns.subList(turns.size() - 3, turns.size() - 2));
        return new ChatFrame(open, close, resume, trims);
    }

    /** The user's text as the template places it: stripped when the template trims it. */
    public String place(String text) {
        return trimsContent ? text.strip() : text;
    }
}
