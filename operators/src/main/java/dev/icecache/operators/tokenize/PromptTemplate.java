package dev.icecache.operators.tokenize;

import java.io.Serializable;

import dev.icecache.model.tokenizer.SentencePieceTokenizer;
import dev.icecache.model.tokenizer.Tokenizer;

/**
 * Plain text around each document: the model's prompt is the template with {@value #PLACEHOLDER}
 * replaced by the document, tokenized as one text (the tokenizer step puts the prefix before the
 * first chunk and the suffix after the last).
 *
 * @param prefix text before the document
 * @param suffix text after the document (typically the instruction, e.g. "\n\nSummary:")
 */
public record PromptTemplate(String prefix, String suffix) implements Serializable {

    /** Where the document goes in a template. */
    public static final String PLACEHOLDER = "{document}";

    public PromptTemplate {
        if (prefix == null || suffix == null) {
            throw new IllegalArgumentException("prompt template prefix and suffix must not be null");
        }
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
