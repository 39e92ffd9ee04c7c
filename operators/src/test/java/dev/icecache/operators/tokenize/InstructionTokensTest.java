package dev.icecache.operators.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.tokenizer.Tokenizer;
import dev.icecache.operators.TestModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The instruction a rolling summary appends, tokenized on its own with the real stories260K vocabulary. */
class InstructionTokensTest {

    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() throws Exception {
        tokenizer = LlamaModel.load(TestModels.require(TestModels.STORIES_GGUF),
                new LoadOptions(null, TestModels.STORIES_CONTEXT)).tokenizer();
    }

    @Test
    void shouldDecodeToTheSuffixExactlyWithoutTheSentencePieceSpacePrefix() {
        int[] tokens = PromptTemplate.parse("{document}\n\nSummary:").instructionTokens(tokenizer);
        assertEquals("\n\nSummary:", tokenizer.decode(tokens));
        int[] started = tokenizer.encode("\n\nSummary:");
        assertNotEquals(tokenizer.decode(started), tokenizer.decode(tokens), "encode() adds a leading space");
    }

    @Test
    void shouldKeepALeadingSpaceOfTheSuffix() {
        int[] tokens = PromptTemplate.parse("{document} TL;DR:").instructionTokens(tokenizer);
        assertEquals(" TL;DR:", tokenizer.decode(tokens));
        assertArrayEquals(tokenizer.encode("TL;DR:"), tokens, "the space becomes the prefix encode() adds");
    }

    @Test
    void shouldBeEmptyWithoutSuffix() {
        assertEquals(0, PromptTemplate.parse("Summarize: {document}").instructionTokens(tokenizer).length);
    }
}
