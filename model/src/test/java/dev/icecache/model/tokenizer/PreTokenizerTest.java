package dev.icecache.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The hand-written splitters against the regexes they stand for, run by java.util.regex. */
class PreTokenizerTest {

    private static final Pattern LLAMA3 = Pattern.compile(
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
                    + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);
    /** Qwen 2's regex as llama.cpp writes it (case-insensitive contractions spelled out, single digits). */
    private static final Pattern QWEN2 = Pattern.compile(
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
                    + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern GPT2 = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
            Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern[] DEFAULT = {
        Pattern.compile("[\\p{P}\\$\\+<=>\\^~\\|]+"),
        GPT2,
        Pattern.compile("\\p{N}+"),
        Pattern.compile("[0-9][0-9][0-9]"),
    };

    @Test
    void shouldSplitLlama3ExampleAsTheRegexDoes() {
        assertEquals(List.of("Hello", ",", " world", "'S", " ", "123", "456", "7", "  ", " x", "\n\n", "\t", "!?\n"),
                split(PreTokenizer.LLAMA3, "Hello, world'S 1234567   x\n\n\t!?\n"));
    }

    @Test
    void shouldSplitQwen2NumbersIntoSingleDigits() {
        assertEquals(List.of("Hello", ",", " world", "'S", " ", "1", "2", "3", "4", "  ", " x"),
                split(PreTokenizer.QWEN2, "Hello, world'S 1234   x"));
        assertEquals(PreTokenizer.QWEN2, PreTokenizer.forName("qwen2"));
    }

    @Test
    void shouldEqualRegexOnRandomTexts() {
        long seed = 4242L;
        Random random = new Random(seed);
        for (int i = 0; i < 3000; i++) {
            String text = randomText(random, random.nextInt(30));
            assertEquals(regexSplit(new Pattern[] {LLAMA3}, text), split(PreTokenizer.LLAMA3, text),
                    "llama3 seed=" + seed + " i=" + i + " text=" + escape(text));
            assertEquals(regexSplit(new Pattern[] {QWEN2}, text), split(PreTokenizer.QWEN2, text),
                    "qwen2 seed=" + seed + " i=" + i + " text=" + escape(text));
            assertEquals(regexSplit(new Pattern[] {GPT2}, text), split(PreTokenizer.GPT2, text),
                    "gpt2 seed=" + seed + " i=" + i + " text=" + escape(text));
            assertEquals(regexSplit(DEFAULT, text), split(PreTokenizer.DEFAULT, text),
                    "default seed=" + seed + " i=" + i + " text=" + escape(text));
        }
    }

    @Test
    void shouldRejectUnknownPreTokenizerName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PreTokenizer.forName("deepseek-llm"));
        assertEquals("unsupported tokenizer.ggml.pre 'deepseek-llm'; supported: llama-bpe (llama3, llama-v3), qwen2, gpt-2, default",
                e.getMessage());
        assertEquals(PreTokenizer.DEFAULT, PreTokenizer.forName(null));
    }

    private static final String PIECES = "aZ\u00e9\u4e2d09\u0663\u00bd'sStTrRvVeElLmMdD  \t\r\n\u00a0\u3000!?.,$+<=>^~|`\"-_@\u00a7";

    static String randomText(Random random, int length) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < length; i++) {
            if (random.nextInt(15) == 0) {
                sb.appendCodePoint(0x1F600 + random.nextInt(8));
            } else {
                sb.append(PIECES.charAt(random.nextInt(PIECES.length())));
            }
        }
        return sb.toString();
    }

    static List<String> split(PreTokenizer pre, String text) {
        int[] cps = text.codePoints().toArray();
        IntList ends = new IntList(8);
        pre.split(cps, 0, cps.length, ends);
        List<String> words = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < ends.size(); i++) {
            words.add(new String(cps, start, ends.get(i) - start));
            start = ends.get(i);
        }
        assertEquals(cps.length, start, "words must cover the text");
        return words;
    }

    /** llama.cpp's regex split: matches and the text between them, each regex refining the last. */
    static List<String> regexSplit(Pattern[] patterns, String text) {
        List<String> words = text.isEmpty() ? List.of() : List.of(text);
        for (Pattern pattern : patterns) {
            List<String> next = new ArrayList<>();
            for (String word : words) {
                Matcher m = pattern.matcher(word);
                int last = 0;
                while (m.find()) {
                    if (m.start() > last) {
                        next.add(word.substring(last, m.start()));
                    }
                    next.add(m.group());
                    last = m.end();
                }
                if (last < word.length()) {
                    next.add(word.substring(last));
                }
            }
            words = next;
        }
        return words;
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder();
        s.codePoints().forEach(cp -> sb.append(cp < 0x20 || cp > 0x7E ? String.format("\\u{%x}", cp) : String.valueOf((char) cp)));
        return sb.toString();
    }
}
