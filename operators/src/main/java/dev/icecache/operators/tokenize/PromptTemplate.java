package dev.icecache.operators.tokenize;

import java.io.Serializable;

import dev.icecache.model.tokenizer.SentencePieceTokenizer;
import dev.icecache.model.tokenizer.Tokenizer;

/**
 * Plain text around each document: the model's prompt is the template with {@value #PLACEHOLDER}
 * replaced by the document, tokenized as one text (the tokenizer step puts the prefix before the
 * first chunk and the suffix after the last). With {@code chat}, that text is the user message
 * of the model's chat template ({@link PromptTokens} has the template's tokens around it).
 *
 * @param prefix text before the document
 * @param suffix text after the document (typically the instruction, e.g. "\n\nSummary:")
 * @param chat true when the text goes through the model's chat template as a user message
 * @param system the chat's system message, or null for none (always null without {@code chat})
 */
public record PromptTemplate(String prefix, String suffix, boolean chat, String system) implements Serializable {

    /** Where the document goes in a template. */
    public static final String PLACEHOLDER = "{document}";

    public PromptTemplate {
        if (prefix == null || suffix == null) {
            throw new IllegalArgumentException("prompt template prefix and suffix must not be null");
        }
        if (system != null && !chat) {
            throw new IllegalArgumentException("a system message needs the chat template (chat = true)");
        }
    }

    /** Plain text around each document, without a chat template. */
    public PromptTemplate(String prefix, String suffix) {
        this(prefix, suffix, false, null);
    }

    /** This template as the user message of the model's chat template, after {@code system} (null for none). */
    public PromptTemplate asChat(String system) {
        return new PromptTemplate(prefix, suffix, true, system);
    }

    /**
     * Parses a template. Text with one {@value #PLACEHOLDER} is split around it; text without it
     * is an instruction that follows the document after a blank line.
     *
     * @throws IllegalArgumentException when the placeholder occurs more than once
     */
    public static PromptTemplate parse(String template) {
        int at = template.indexOf(PLACEHOLDER);
        if (at < 0) {
            return new PromptTemplate("", template.isEmpty() ? "" : "\n\n" + template);
        }
        if (template.indexOf(PLACEHOLDER, at + 1) >= 0) {
            throw new IllegalArgumentException("prompt template has " + PLACEHOLDER
                    + " more than once; put the document in one place");
        }
        return new PromptTemplate(template.substring(0, at), template.substring(at + PLACEHOLDER.length()));
    }

    /** The whole prompt text for a document (what tokenizing at once would see). */
    public String apply(String document) {
        return prefix + document + suffix;
    }

    /**
     * The suffix (the instruction) tokenized on its own as a continuation of text, the way a
     * rolling summary appends it after any chunk: a SentencePiece tokenizer gets no leading space
     * added, since the suffix continues the document rather than starting a text.
     *
     * @param tokenizer the model's tokenizer
     */
    public int[] instructionTokens(Tokenizer tokenizer) {
        if (suffix.isEmpty()) {
            return new int[0];
        }
        if ("llama".equals(tokenizer.vocabulary().model())) {
            return new SentencePieceTokenizer(tokenizer.vocabulary(), false).encode(suffix);
        }
        return tokenizer.encode(suffix);
    }
}
