package dev.icecache.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.icecache.kvcache.FullCache;

/** Greedy decoding of the shared real models reproduces their reference ids (llama.cpp and llama2.c agree on them). */
class ReferenceOutputTest {

    static int[] greedyFromBos(LlamaModel model, int bos, int steps) {
        Session s = model.newSession(new FullCache(model.cacheShape()));
        Sampler greedy = new Sampler(0f, 1f, 0);
        int[] out = new int[steps];
        float[] logits = s.step(bos);
        for (int i = 0; i < steps; i++) {
            out[i] = greedy.sample(logits);
            if (i + 1 < steps) {
                logits = s.step(out[i]);
            }
        }
        return out;
    }

    @Test
    void shouldReproduceStories260kReferenceFromGguf() throws IOException {
        Path file = TestModels.require("stories260K/stories260Ktok512.gguf");
        int[] expected = TestModels.readIds(TestModels.require("stories260K/reference-greedy.ids"));
        try (LlamaModel model = LlamaModel.load(file, new LoadOptions(null, 512))) {
            assertEquals(512, model.config().contextLength());
            assertEquals(64, model.config().dim());
            assertEquals(4, model.config().nKvHeads());
            int[] ids = greedyFromBos(model, model.tokenizer().bos(), expected.length);
            assertArrayEquals(expected, ids);
            assertEquals(referenceText(), withoutLeadingSpace(model.tokenizer().decode(ids)));
        }
    }

    @Test
    void shouldReproduceStories260kReferenceFromLlama2cBin() throws IOException {
        Path file = TestModels.require("stories260K/stories260K.bin");
        Path tok = TestModels.require("stories260K/tok512.bin");
        int[] expected = TestModels.readIds(TestModels.require("stories260K/reference-greedy.ids"));
        try (LlamaModel model = LlamaModel.load(file, new LoadOptions(tok, 0))) {
            assertEquals(512, model.config().contextLength());
            int[] ids = greedyFromBos(model, model.tokenizer().bos(), expected.length);
            assertArrayEquals(expected, ids);
            assertEquals(referenceText(), withoutLeadingSpace(model.tokenizer().decode(ids)));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"iceeval-1m/iceeval-1m.gguf", "iceeval-1m/iceeval-1m.bin"})
    void shouldReproduceIceevalReferenceAfterPrompt(String modelFile) throws IOException {
        Path file = TestModels.require(modelFile);
        int[] expected = TestModels.readIds(TestModels.require("iceeval-1m/reference-greedy.ids"));
        String prompt = Files.readString(TestModels.require("iceeval-1m/reference-prompt.txt"));
        LoadOptions options = modelFile.endsWith(".bin")
                ? new LoadOptions(TestModels.require("iceeval-1m/tokenizer.bin"), 0) : LoadOptions.defaults();
        try (LlamaModel model = LlamaModel.load(file, options)) {
            assertEquals(32, model.config().headDim());
            int[] text = model.tokenizer().encode(prompt.strip());
            int[] tokens = new int[text.length + 1];
            tokens[0] = model.tokenizer().bos();
            System.arraycopy(text, 0, tokens, 1, text.length);
            Session s = model.newSession(new FullCache(model.cacheShape()));
            Sampler greedy = new Sampler(0f, 1f, 0);
            float[] logits = s.prefill(tokens, 0, tokens.length, true);
            int[] got = new int[expected.length];
            for (int i = 0; i < got.length; i++) {
                got[i] = greedy.sample(logits);
                logits = s.step(got[i]);
            }
            assertArrayEquals(expected, got, "prompt ids " + Arrays.toString(tokens));
        }
    }

    private static String referenceText() throws IOException {
        return Files.readString(TestModels.require("stories260K/reference-greedy.txt"));
    }

    private static String withoutLeadingSpace(String text) {
        return text.startsWith(" ") ? text.substring(1) : text;
    }
}
