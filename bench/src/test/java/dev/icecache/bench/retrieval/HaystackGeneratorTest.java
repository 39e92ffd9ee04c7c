package dev.icecache.bench.retrieval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.bench.fidelity.SharedModels;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Haystacks in stories260K's vocabulary: where the value is, where the needle goes, determinism, limits. */
class HaystackGeneratorTest {

    private static final int CONTEXT = 512;
    /** Every sentence of this filler has the same tokens, so a sentence's length is known. */
    private static final String SAME_SENTENCE = "The cat sat on the mat.";

    private static Tokenizer tokenizer;
    private static String story;

    @BeforeAll
    static void load() throws IOException {
        try (LlamaModel model = LlamaModel.load(SharedModels.require(SharedModels.STORIES_260K), new LoadOptions(null, CONTEXT))) {
            tokenizer = model.tokenizer();
        }
        story = Files.readString(SharedModels.STORY, StandardCharsets.UTF_8);
    }

    @Test
    void shouldPlantTheValueWhereItsTokensDecodeToTheValue() {
        HaystackGenerator generator = new HaystackGenerator(tokenizer, story, CONTEXT);
        for (long seed = 0; seed < 40; seed++) {
            int keys = seed % 2 == 0 ? 1 : 4;
            int length = 120 + (int) (seed * 9);
            int depth = (int) (seed * 7 % 101);
            Haystack h = generator.generate(length, depth, keys, seed);
            String where = "seed=" + seed + " keys=" + keys + " length=" + length + " depth=" + depth;
            assertEquals(length, h.length(), where);
            assertEquals(tokenizer.bos(), h.prompt()[0], where);
            int[] planted = Arrays.copyOfRange(h.prompt(), h.valueStart(), h.valueEnd());
            assertArrayEquals(h.answer(), planted, where);
            assertEquals(h.value(), tokenizer.decode(planted).strip(), where);
            assertTrue(h.value().matches("[1-9][0-9]{4}"), where + " value=" + h.value());
            String needle = tokenizer.decode(Arrays.copyOfRange(h.prompt(), h.needleStart(), h.valueEnd())).strip();
            String question = tokenizer.decode(Arrays.copyOfRange(h.prompt(), h.bodyEnd(), h.length())).strip();
            if (keys == 1) {
                assertEquals("The pass key is " + h.value(), needle, where);
                assertEquals("What is the pass key? The pass key is", question, where);
            } else {
                String word = needle.substring("The key of ".length(), needle.indexOf(" is "));
                assertEquals("The key of " + word + " is " + h.value(), needle, where);
                assertEquals("What is the key of " + word + "? The key of " + word + " is", question, where);
                String body = tokenizer.decode(Arrays.copyOfRange(h.prompt(), h.bodyStart(), h.bodyEnd()));
                assertEquals(keys, body.split("The key of ", -1).length - 1, where + " body=" + body);
            }
        }
    }

    @Test
    void shouldPlaceTheNeedleWithinOneSentenceOfTheAskedDepth() {
        HaystackGenerator generator = new HaystackGenerator(tokenizer, (SAME_SENTENCE + " ").repeat(40), CONTEXT);
        int sentence = tokenizer.encode(SAME_SENTENCE).length;
        int longestKeySentence = 0;
        for (String word : HaystackGenerator.KEY_WORDS) {
            longestKeySentence = Math.max(longestKeySentence, tokenizer.encode(HaystackGenerator.needleText(word, "99999")).length);
        }
        for (int keys : new int[] {1, 3}) {
            int unit = keys == 1 ? sentence : Math.max(sentence, longestKeySentence);
            for (int depth = 0; depth <= 100; depth += 5) {
                for (int length : new int[] {150, 333, 500}) {
                    long seed = 1000L * depth + length + keys;
                    Haystack h = generator.generate(length, depth, keys, seed);
                    int needle = needleLength(h);
                    int body = h.bodyEnd() - h.bodyStart() - needle;
                    double target = h.bodyStart() + depth / 100.0 * body;
                    String where = "seed=" + seed + " keys=" + keys + " length=" + length + " depth=" + depth
                            + " needleStart=" + h.needleStart() + " target=" + target;
                    assertTrue(Math.abs(h.needleStart() - target) <= unit, where);
                    if (depth == 0) {
                        assertEquals(h.bodyStart(), h.needleStart(), where);
                    }
                    if (depth == 100) {
                        assertEquals(h.bodyEnd(), h.needleStart() + needle, where);
                    }
                }
            }
        }
    }

    /** Tokens of the asked needle sentence, from the text the haystack says it planted. */
    private static int needleLength(Haystack h) {
        String text = tokenizer.decode(Arrays.copyOfRange(h.prompt(), h.needleStart(), h.valueStart())).strip();
        String word = h.keys() == 1 ? null : text.substring("The key of ".length(), text.lastIndexOf(" is"));
        return tokenizer.encode(HaystackGenerator.needleText(word, h.value())).length;
    }

    @Test
    void shouldGiveTheSameHaystackForTheSameSeedAndAnotherForAnotherSeed() {
        HaystackGenerator generator = new HaystackGenerator(tokenizer, story, CONTEXT);
        Haystack a = generator.generate(300, 40, 4, HaystackGenerator.trialSeed(7, 300, 40, 4, 2));
        Haystack b = new HaystackGenerator(tokenizer, story, CONTEXT).generate(300, 40, 4,
                HaystackGenerator.trialSeed(7, 300, 40, 4, 2));
        assertArrayEquals(a.prompt(), b.prompt());
        assertEquals(a.valueStart(), b.valueStart());
        assertEquals(a.value(), b.value());
        Haystack other = generator.generate(300, 40, 4, HaystackGenerator.trialSeed(7, 300, 40, 4, 3));
        assertFalse(Arrays.equals(a.prompt(), other.prompt()), "trials 2 and 3 gave the same haystack");
    }

    @Test
    void shouldRejectALengthWhoseAnswerDoesNotFitTheContext() {
        HaystackGenerator generator = new HaystackGenerator(tokenizer, story, CONTEXT);
        int answer = generator.generate(200, 50, 1, 1).answer().length;
        assertEquals(CONTEXT, generator.generate(CONTEXT - answer, 50, 1, 1).length() + answer);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> generator.generate(CONTEXT - answer + 1, 50, 1, 1));
        assertEquals("length=" + (CONTEXT - answer + 1) + " plus the answer's " + answer + " tokens exceeds the context"
                + " length=512; use lengths <= " + (CONTEXT - answer), e.getMessage());
    }

    @Test
    void shouldRejectALengthTooShortForTheNeedlesAndQuestion() {
        HaystackGenerator generator = new HaystackGenerator(tokenizer, story, CONTEXT);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> generator.generate(40, 50, 4, 1));
        assertTrue(e.getMessage().startsWith("length=40 cannot hold BOS, 4 key sentence(s) and the question"), e.getMessage());
    }

    @Test
    void shouldRejectAFillerOfOneSentence() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new HaystackGenerator(tokenizer, "Just one sentence here.", CONTEXT));
        assertTrue(e.getMessage().startsWith("filler text has 1 sentence(s)"), e.getMessage());
    }
}
