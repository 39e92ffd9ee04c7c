package dev.icecache.model.chat;

/**
 * One message of a conversation given to a chat template.
 *
 * @param role {@code system}, {@code user} or {@code assistant}
 * @param content the message text, rendered as plain text (never as control tokens)
 */
public record ChatMessage(String role, String content) {

    public ChatMessage {
        if (role == null || content == null) {
            throw new IllegalArgumentException("chat message role and content must not be null");
        }
    }

    /** A system message. */
    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    /** A user message. */
    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }
}
