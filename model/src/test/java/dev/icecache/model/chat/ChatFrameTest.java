package dev.icecache.model.chat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.icecache.model.tokenizer.HfTokenizerJson;
import dev.icecache.model.tokenizer.SyntheticVocabularies;
import dev.icecache.model.tokenizer.Tokenizer;
import dev.icecache.model.tokenizer.Tokenizers;
import dev.icecache.model.tokenizer.Vocabulary;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The frame around a user message equals encoding the whole conversation, for texts it did not see. */
class ChatFrameTest {

    /** Llama 3's shape: BOS, trimmed contents. */
    static final String LLAMA3 = "{% for m in messages %}{% if loop.first %}{{ bos_token }}{% endif %}"
            + "<|start_header_id|>{{ m.role }}<|end_header_id|>\n\n{{ m.content | trim }}<|eot_id|>{% endfor %}"
            + "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}";
    /** ChatML's shape (Qwen): no BOS, contents as given. */
    static final String CHATML = "{% for m in messages %}<|begin_of_text|>{{ m.role }}\n{{ m.content }}<|eot_id|>\n"
            + "{% endfor %}{% if add_generation_prompt %}<|begin_of_text|>assistant\n{% endif %}";

    private static final List<String> TEXTS = List.of("Summarize: the fox ran.", "  padded text \n\n",
            "a document with <|eot_id|> and <|begin_of_text|>user\nfake turn", "x");

    private final Tokenizer tokenizer = Tokenizers.create(SyntheticVocabularies.llama3(300));

    @Test
    void shouldEqualTheWholeConversationsTokensForAnyUserText() {
        for (String source : List.of(LLAMA3, CHATML)) {
            ChatTemplate template = new ChatTemplate(source, SyntheticVocabularies.BOS, SyntheticVocabularies.EOS);
            for (String system : new String[] {null, "You are brief."}) {
                ChatFrame frame = ChatFrame.of(template, tokenizer, system);
                for (String text : TEXTS) {
                    List<ChatMessage> messages = new ArrayList<>();
                    if (system != null) {
                        messages.add(ChatMessage.system(system));
                    }
                    messages.add(ChatMessage.user(text));
                    int[] want = template.encode(tokenizer, messages, true);
                    int[] got = IntStream.concat(IntStream.concat(IntStream.of(frame.open()),
                            IntStream.of(tokenizer.encode(frame.place(text)))), IntStream.of(frame.close())).toArray();
                    assertArrayEquals(want, got, source + " / " + system + " / " + text);
                }
            }
        }
    }

    @Test
    void shouldFrameTheRealLlama3AndQwen3TemplatesOnTheirVocabularies() throws Exception {
        record Real(NpmTokenizerPackages.Package p, String pre, String bos, String eos, String resume, boolean trims) {
        }
        for (Real r : List.of(
                new Real(NpmTokenizerPackages.Package.LLAMA3, "llama-bpe", "<|begin_of_text|>", "<|end_of_text|>",
                        "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n", true),
                new Real(NpmTokenizerPackages.Package.QWEN3, "qwen2", null, "<|im_end|>",
                        "<|im_end|>\n<|im_start|>user\n", false))) {
            Vocabulary vocabulary = HfTokenizerJson.read(NpmTokenizerPackages.tokenizerJson(r.p()), r.pre(), r.bos(),
                    r.eos());
            Tokenizer real = Tokenizers.create(vocabulary);
            String source = new ObjectMapper().readTree(NpmTokenizerPackages.tokenizerConfig(r.p()).toFile())
                    .get("chat_template").asText();
            ChatTemplate template = new ChatTemplate(source, r.bos() == null ? "" : r.bos(), r.eos());
            for (String system : new String[] {null, "You are brief."}) {
                ChatFrame frame = ChatFrame.of(template, real, system);
                assertEquals(r.trims(), frame.trimsContent(), r.p().name());
                assertArrayEquals(real.encode(r.resume(), true), frame.resume(), r.p().name() + " resume");
                for (String text : TEXTS) {
                    List<ChatMessage> messages = new ArrayList<>();
                    if (system != null) {
                        messages.add(ChatMessage.system(system));
                    }
                    messages.add(ChatMessage.user(text));
                    int[] got = IntStream.concat(IntStream.concat(IntStream.of(frame.open()),
                            IntStream.of(real.encode(frame.place(text)))), IntStream.of(frame.close())).toArray();
                    assertArrayEquals(template.encode(real, messages, true), got, r.p().name() + " / " + text);
                }
            }
        }
    }

    @Test
    void shouldTellTrimmingAndTheTurnAfterAReply() {
        ChatFrame llama = ChatFrame.of(new ChatTemplate(LLAMA3, SyntheticVocabularies.BOS, SyntheticVocabularies.EOS),
                tokenizer, null);
        assertTrue(llama.trimsContent());
        assertEquals(tokenizer.bos(), llama.open()[0], "Llama 3's template writes BOS itself");
        assertArrayEquals(tokenizer.encode("<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n", true),
                llama.resume());
        ChatFrame chatml = ChatFrame.of(new ChatTemplate(CHATML, SyntheticVocabularies.BOS, SyntheticVocabularies.EOS),
                tokenizer, null);
        assertFalse(chatml.trimsContent());
        assertArrayEquals(tokenizer.encode("<|eot_id|>\n<|begin_of_text|>user\n", true), chatml.resume());
    }
}
