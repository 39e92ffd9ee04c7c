package dev.icecache.bench.speed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.icecache.model.synthetic.SyntheticVocabulary;
import dev.icecache.model.tokenizer.Tokenizer;
import dev.icecache.model.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;

class LlamaCppPromptTest {

    @Test
    void shouldBeOneTokenPerWordInTheRandomModelsVocabulary() {
        Tokenizer tokenizer = Tokenizers.create(SyntheticVocabulary.create(128256).toVocabulary());
        for (int words : new int[] {1, 26, 27, 1000}) {
            assertEquals(words, tokenizer.encode(LlamaCppPrompt.ofWords(words)).length, "words=" + words);
        }
    }

    @Test
    void shouldCycleThroughTheAlphabet() {
        assertEquals("a b c", LlamaCppPrompt.ofWords(3));
        assertEquals('a', LlamaCppPrompt.ofWords(27).charAt(52));
    }

    @Test
    void shouldRejectZeroWords() {
        assertThrows(IllegalArgumentException.class, () -> LlamaCppPrompt.ofWords(0));
    }
}
