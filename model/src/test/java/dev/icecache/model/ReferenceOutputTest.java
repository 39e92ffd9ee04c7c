package dev.icecache.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

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
            assertArrayEquals(expected, greedyFromBos(model, 1, expected.length));
        }
    }

    @Test
    void shouldReproduceStories260kReferenceFromLlama2cBin() throws IOException {
        Path file = TestModels.require("stories260K/stories260K.bin");
        Path tok = TestModels.require("stories260K/tok512.bin");
        int[] expected = TestModels.readIds(TestModels.require("stories260K/reference-greedy.ids"));
        try (LlamaModel model = LlamaModel.load(file, new LoadOptions(tok, 0))) {
            assertEquals(512, model.config().contextLength());
            assertArrayEquals(expected, greedyFromBos(model, 1, expected.length));
        }
    }
}
