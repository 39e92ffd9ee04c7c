package dev.icecache.model.chat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.hubspot.jinjava.Jinjava;
import dev.icecache.model.tokenizer.Tokenizer;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;

/**
 * A model's chat template (GGUF {@code tokenizer.chat_template}, Jinja) rendered by Jinjava
 * the way Hugging Face transformers renders it: {@code trim_blocks} and {@code lstrip_blocks}
 * on, {@code messages}, {@code add_generation_prompt}, {@code bos_token} and {@code eos_token}
 * bound, {@code raise_exception} defined.
 *
 * <p>{@link #renderParts} tells the template's own text apart from the messages' contents, so
 * that only the template's special tokens become control tokens: it renders once with each
 * content replaced by a marker and splits the result there.
 */
public final class ChatTemplate {

    /** Marks where message i's content goes: U+FDD0 i U+FDD1 (noncharacters, never in text). */
    private static final char OPEN = '\uFDD0';
    private static final char CLOSE = '\uFDD1';
    private static final String RAISED = "the template raised: ";

    private final String source;
    private final String compatible; // source with Python idioms rewritten for Jinjava
    private final String bosToken;
    private final String eosToken;
    private final Jinjava jinjava;

    /**
     * @param source the Jinja template
     * @param bosToken the text of the BOS token ("" when the vocabulary has none)
     * @param eosToken the text of the EOS token ("" when the vocabulary has none)
     */
    public ChatTemplate(String source, String bosToken, String eosToken) {
        this.source = source;
        this.compatible = PythonIdioms.rewrite(source);
        this.bosToken = bosToken;
        this.eosToken = eosToken;
        // Jinja 2 semantics: '{{-' and '-}}' trim as in Python, filters bind tighter than arithmetic
        LegacyOverrides jinja2 = LegacyOverrides.newBuilder().withParseWhitespaceControlStrictly(true)
                .withUseTrimmingForNotesAndExpressions(true).withUseNaturalOperatorPrecedence(true).build();
        this.jinjava = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true)
                .withLegacyOverrides(jinja2).build());
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception", ChatTemplate.class,
                "raiseException", String.class));
    }

    /** The template's Jinja source. */
    public String source() {
        return source;
    }

    /**
     * Renders the conversation.
     *
     * @throws ChatTemplateException when the template cannot be rendered
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return renderRaw(messages, addGenerationPrompt);
    }

    /**
     * The rendering as alternating parts: even indexes are the template's own text (its special
     * tokens are control tokens), odd indexes the messages' contents as the template placed them
     * (plain text). Concatenated they equal {@link #render}.
     *
     * @throws ChatTemplateException when the template cannot be rendered, or changes a message's
     *         content in a way the split cannot follow
     */
    public List<String> renderParts(List<ChatMessage> messages, boolean addGenerationPrompt) {
        List<ChatMessage> marked = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            String content = messages.get(i).content();
            if (content.indexOf(OPEN) >= 0 || content.indexOf(CLOSE) >= 0) {
                throw new ChatTemplateException("chat message " + i + " contains the noncharacter U+FDD0 or U+FDD1;"
                        + " remove it or use --prompt instead of --chat");
            }
            marked.add(new ChatMessage(messages.get(i).role(), OPEN + Integer.toString(i) + CLOSE));
        }
        String withMarkers = renderRaw(marked, addGenerationPrompt);
        String rendered = renderRaw(messages, addGenerationPrompt);
        List<String> parts = new ArrayList<>();
        int from = 0;
        int at = 0; // position in the real rendering
        while (true) {
            int open = withMarkers.indexOf(OPEN, from);
            String text = withMarkers.substring(from, open < 0 ? withMarkers.length() : open);
            if (!rendered.startsWith(text, at)) {
                throw unfollowable();
            }
            parts.add(text);
            at += text.length();
            if (open < 0) {
                break;
            }
            int close = withMarkers.indexOf(CLOSE, open);
            int index = close < 0 ? -1 : parseIndex(withMarkers.substring(open + 1, close));
            if (index < 0 || index >= messages.size()) {
                throw unfollowable();
            }
            // the content as the template placed it: as given, or trimmed by a '| trim' filter
            String content = messages.get(index).content();
            String placed = rendered.startsWith(content, at) ? content : content.strip();
            if (!rendered.startsWith(placed, at)) {
                throw unfollowable();
            }
            parts.add(placed);
            at += placed.length();
            from = close + 1;
        }
        if (at != rendered.length()) {
            throw unfollowable();
        }
        return parts;
    }

    private static ChatTemplateException unfollowable() {
        return new ChatTemplateException("the chat template rewrites message contents beyond trimming; this engine"
                + " cannot keep their text apart from control tokens: use --prompt instead of --chat");
    }

    /**
     * The conversation's token ids: the template's own text with its special tokens parsed as
     * control tokens, each message's content as plain text (a document containing
     * {@code <|eot_id|>} gets the tokens of those characters, not the control token). A BOS the
     * template writes is included; add none before these.
     *
     * @throws ChatTemplateException as {@link #renderParts}
     */
    public int[] encode(Tokenizer tokenizer, List<ChatMessage> messages, boolean addGenerationPrompt) {
        return encodeParts(tokenizer, renderParts(messages, addGenerationPrompt));
    }

    /**
     * Token ids of parts as {@link #renderParts} returns them (or a run of them starting at an
     * even index): even indexes with special tokens parsed, odd ones as plain text.
     */
    static int[] encodeParts(Tokenizer tokenizer, List<String> parts) {
        List<int[]> encoded = new ArrayList<>(parts.size());
        int total = 0;
        for (int i = 0; i < parts.size(); i++) {
            int[] ids = parts.get(i).isEmpty() ? new int[0] : tokenizer.encode(parts.get(i), i % 2 == 0);
            encoded.add(ids);
            total += ids.length;
        }
        int[] all = new int[total];
        int at = 0;
        for (int[] ids : encoded) {
            System.arraycopy(ids, 0, all, at, ids.length);
            at += ids.length;
        }
        return all;
    }

    private String renderRaw(List<ChatMessage> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> list = new ArrayList<>();
        for (ChatMessage m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            list.add(map);
        }
        Map<String, Object> bindings = new LinkedHashMap<>();
        bindings.put("messages", list);
        bindings.put("add_generation_prompt", addGenerationPrompt);
        bindings.put("bos_token", bosToken);
        bindings.put("eos_token", eosToken);
        RenderResult result;
        try {
            result = jinjava.renderForResult(compatible, bindings);
        } catch (RuntimeException e) {
            throw new ChatTemplateException(failure(e.getMessage()));
        }
        for (TemplateError error : result.getErrors()) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new ChatTemplateException(failure(raisedMessage(error.getException(), error.getMessage())));
            }
        }
        return result.getOutput();
    }

    /** The template's own raise_exception message when that is what failed, else {@code fallback}. */
    private static String raisedMessage(Throwable error, String fallback) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t.getMessage() != null && t.getMessage().startsWith(RAISED)) {
                return t.getMessage();
            }
        }
        return fallback;
    }

    private static String failure(String cause) {
        String oneLine = cause == null ? "unknown error" : cause.replaceAll("\\s+", " ").trim();
        return "the model's chat template cannot be rendered (" + oneLine + "); use --prompt with the model's"
                + " format written out instead of --chat";
    }

    private static int parseIndex(String digits) {
        try {
            return Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The template's {@code raise_exception(message)}: fails the rendering with the template's message. */
    public static String raiseException(String message) {
        throw new IllegalStateException(RAISED + message);
    }
}
