package dev.icecache.model.chat;

/** A chat template that cannot be rendered; the message is one line that names the cause and advises {@code --prompt}. */
public final class ChatTemplateException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    public ChatTemplateException(String message) {
        super(message);
    }
}
