package dev.icecache.model.llamacpp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.chat.NpmTokenizerPackages;
import dev.icecache.model.tokenizer.HfTokenizerJson;
import dev.icecache.model.tokenizer.Tokenizer;
import dev.icecache.model.tokenizer.Vocabulary;
import dev.icecache.model.tokenizer.VocabularyModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our byte-level BPE against llama.cpp (java-llama.cpp) on the real Llama 3 and Qwen 3
 * vocabularies (from the npm tokenizer packages, see {@link NpmTokenizerPackages}): GGUFs with
 * those vocabularies and random tiny weights, and a varied corpus (the example stories, and
 * excerpts of the public-domain books with {@code -Dicecache.books.dir=DIR}; code,
 * Unicode, digits, whitespace runs, special and user-defined token strings). Every id must be
 * equal. java-llama.cpp parses special tokens, so ours are encoded with {@code parseSpecial} too
 * (user-defined added tokens such as Qwen's {@code <think>} are matched whole either way).
 */
class RealVocabularyParityTest {

    /** Excerpts per book and their length, when {@code -Dicecache.books.dir} names the fetched books. */
    private static final int BOOK_EXCERPTS = 8;
    private static final int BOOK_EXCERPT_CHARS = 3000;

    @TempDir
    Path work;

    @Test
    void shouldTokenizeLikeLlamaCppWithTheLlama3Vocabulary() throws Exception {
        Vocabulary v = HfTokenizerJson.read(NpmTokenizerPackages.tokenizerJson(NpmTokenizerPackages.Package.LLAMA3),
                "llama-bpe", "<|begin_of_text|>", "<|end_of_text|>");
        assertEquals(128256, v.size());
        compare("llama", v, List.of("<|eot_id|> after <|start_header_id|>user<|end_header_id|>\n\nhi"));
    }

    @Test
    void shouldTokenizeLikeLlamaCppWithTheQwen3Vocabulary() throws Exception {
        Vocabulary v = HfTokenizerJson.read(NpmTokenizerPackages.tokenizerJson(NpmTokenizerPackages.Package.QWEN3),
                "qwen2", null, "<|im_end|>");
        assertEquals(151669, v.size());
        // NOTE: the bundled llama.cpp does not know the qwen3 architecture; the vocabulary and its
        // pre-tokenizer (qwen2) are the same under qwen2, which it knows
        compare("qwen2", v, List.of("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
                "<think>\nreasoning</think>\n\nanswer <tool_call>{\"x\": 1}</tool_call>"));
    }

    private void compare(String architecture, Vocabulary vocabulary, List<String> specials) throws Exception {
        Path gguf = work.resolve(architecture + "-vocab.gguf");
        VocabularyModels.write(gguf, architecture, vocabulary, null, 7);
        List<String> corpus = new ArrayList<>(corpus());
        corpus.addAll(specials);
        LlamaCppProcess llamaCpp = new LlamaCppProcess();
        corpus.forEach(llamaCpp::tokenize);
        List<String> answers = llamaCpp.run(gguf, 1, 256, work);
        try (LlamaModel model = LlamaModel.load(gguf, LoadOptions.defaults())) {
            Tokenizer tokenizer = model.tokenizer();
            int equal = 0;
            List<String> differing = new ArrayList<>();
            for (int i = 0; i < corpus.size(); i++) {
                String ours = IntStream.of(tokenizer.encode(corpus.get(i), true)).mapToObj(Integer::toString)
                        .collect(Collectors.joining(" "));
                if (ours.equals(answers.get(i))) {
                    equal++;
                } else if (differing.size() < 5) {
                    differing.add("text=" + escape(corpus.get(i)) + " llama.cpp=[" + answers.get(i) + "] ours=[" + ours + "]");
                }
            }
            System.out.printf("%s vocabulary (%d tokens): %d/%d texts (%d chars) with ids equal to llama.cpp's%n",
                    architecture, vocabulary.size(), equal, corpus.size(),
                    corpus.stream().mapToLong(String::length).sum());
            assertEquals(corpus.size(), equal, architecture + ": texts with equal ids " + equal + "/" + corpus.size()
                    + "; first differences: " + String.join(" | ", differing));
        }
    }

    /** Book-like texts by paragraph, code, Unicode, digits and whitespace runs. */
    static List<String> corpus() throws IOException {
        List<String> texts = new ArrayList<>(ParityPrompts.ALL);
        Path examples = Path.of(System.getProperty("icecache.examples.dir", "../examples/documents")).getParent();
        try (Stream<Path> files = Stream.concat(Files.list(examples.resolve("documents")),
                Files.list(examples.resolve("texts")))) {
            for (Path f : files.sorted().toList()) {
                String text = Files.readString(f);
                texts.add(text); // whole, with its newlines
                for (String paragraph : text.split("\n\n")) {
                    if (!paragraph.isBlank()) {
                        texts.add(paragraph);
                    }
                }
            }
        }
        assertTrue(texts.size() > 60, "the example texts are found: " + texts.size());
        // the public-domain books (examples/fetch-books.sh) when given: excerpts from each
        String books = System.getProperty("icecache.books.dir");
        if (books != null) {
            try (Stream<Path> files = Files.list(Path.of(books))) {
                for (Path f : files.filter(p -> p.toString().endsWith(".txt")).sorted().toList()) {
                    String text = Files.readString(f);
                    for (int i = 1; i <= BOOK_EXCERPTS; i++) {
                        int from = (int) ((long) text.length() * i / (BOOK_EXCERPTS + 1));
                        texts.add(text.substring(from, Math.min(text.length(), from + BOOK_EXCERPT_CHARS)));
                    }
                }
            }
        }
        texts.add(Files.readString(Path.of("src/main/java/dev/icecache/model/tokenizer/Gpt2Tokenizer.java")));
        texts.addAll(List.of(
                "def f(x):\n    return {'a': [1, 2, 3], \"b\": x ** 2}  # comment\n\n\nclass A:\n\tpass\n",
                "for (int i = 0; i < n; i++) { sum += a[i] * b[i]; } // O(n)\n#include <stdio.h>\n",
                "SELECT id, name FROM users WHERE age >= 18 AND name LIKE '%son';",
                "<html><body><p class=\"x\">Hi &amp; bye</p></body></html>",
                "e\u0301t\u00e9 caf\u00e9 cafe\u0301 \u00c5ngstr\u00f6m \u212bngstr\u00f6m",
                "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35 \u0928\u092e\u0938\u094d\u0924\u0947 \u4f60\u597d\uff0c\u4e16\u754c\uff01",
                "\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67 \ud83c\uddeb\ud83c\uddf7 \ud83d\udc4d\ud83c\udffd",
                "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645 123 \u05e9\u05dc\u05d5\u05dd",
                "1234567890 12345678901234567890 0000001 3.14159265358979 -0.5e-10 1,000,000",
                "\uff11\uff12\uff13 \u0663\u0664\u0665 \u00bd \u2167 2\u00b3",
                "a  b   c    d     e      f",
                "\n\n\n", "   ", " \n \n ", "\t\t x \t", "x   \n   y", "\r\n\r\n\r\nz", "\u00a0\u2003\u3000gap",
                "trailing spaces     ", "    leading and trailing    ", "tab\tseparated\tvalues\n1\t2\t3",
                "ALLCAPS SHOUTING!!! ??? ... --- ***", "I'M HE'LL SHE'D they'RE",
                "https://example.com/path?q=1&r=two#frag user@example.org"));
        return texts;
    }

    private static String escape(String s) {
        String head = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        return head.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r");
    }
}
