package dev.icecache.model.tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A Hugging Face {@code tokenizer.json} (byte-level BPE) as the GGUF vocabulary llama.cpp's
 * {@code convert_hf_to_gguf.py} writes for it: the vocabulary's tokens by id, then the added
 * tokens; added tokens that are special, or look special ({@code <|...|>}), are CONTROL, the
 * other added ones USER_DEFINED, the rest NORMAL; merges as "a b" strings.
 */
public final class HfTokenizerJson {

    private HfTokenizerJson() {
    }

    /**
     * Reads the vocabulary.
     *
     * @param pre the GGUF pre-tokenizer name llama.cpp gives the model ({@code llama-bpe}, {@code qwen2})
     * @param bos the BOS token's text, or null for none
     * @param eos the EOS token's text
     */
    public static Vocabulary read(Path tokenizerJson, String pre, String bos, String eos) throws IOException {
        JsonNode root = new ObjectMapper().readTree(tokenizerJson.toFile());
        JsonNode vocab = root.get("model").get("vocab");
        JsonNode added = root.get("added_tokens");
        int size = vocab.size();
        for (JsonNode a : added) {
            size = Math.max(size, a.get("id").asInt() + 1);
        }
        String[] tokens = new String[size];
        int[] types = new int[size];
        vocab.fields().forEachRemaining(e -> {
            tokens[e.getValue().asInt()] = e.getKey();
            types[e.getValue().asInt()] = TokenType.NORMAL;
        });
        for (JsonNode a : added) {
            int id = a.get("id").asInt();
            String text = a.get("content").asText();
            tokens[id] = text;
            boolean looksSpecial = text.startsWith("<|") && text.endsWith("|>");
            types[id] = a.get("special").asBoolean() || looksSpecial ? TokenType.CONTROL : TokenType.USER_DEFINED;
        }
        for (int i = 0; i < size; i++) {
            if (tokens[i] == null) {
                tokens[i] = "[PAD" + i + "]";
                types[i] = TokenType.USER_DEFINED;
            }
        }
        List<String> merges = new ArrayList<>();
        for (JsonNode m : root.get("model").get("merges")) {
            merges.add(m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText());
        }
        return new Vocabulary("gpt2", pre, tokens, null, types, merges, bos == null ? -1 : indexOf(tokens, bos),
                indexOf(tokens, eos), -1, bos != null);
    }

    private static int indexOf(String[] tokens, String text) {
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i].equals(text)) {
                return i;
            }
        }
        throw new IllegalArgumentException("token '" + text + "' is not in the vocabulary");
    }
}
