package dev.icecache.operators.decode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import dev.icecache.kvcache.FullCache;
import dev.icecache.kvcache.KvCache;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.Sampler;
import dev.icecache.model.Session;
import dev.icecache.operators.TestModels;
import dev.icecache.operators.state.PersistentFullCache;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** DocumentSession with the real stories260K model, no Flink. */
class DocumentSessionTest {

    private static LlamaModel model;

    @BeforeAll
    static void load() throws Exception {
        Path file = TestModels.require(TestModels.STORIES_GGUF);
        model = LlamaModel.load(file, new LoadOptions(null, TestModels.STORIES_CONTEXT));
    }

    @Test
    void shouldReproduceTheReferenceGreedyTextWhenThePromptIsOnlyBos() throws Exception {
        int[] reference = TestModels.readIds(TestModels.require("stories260K/reference-greedy.ids"));
        GenerationSettings g = new GenerationSettings(reference.length, 0f, 1f, 1, 7);
        DocumentSession doc = DocumentSession.start(model, newCache(), g, "empty");
        doc.prefill(new int[0], true);
        int[] got = decodeAll(doc, 7);
        assertArrayEquals(reference, got);
    }

    @Test
    void shouldEqualTheEngineAloneForAnyChunkingOfThePrompt() {
        for (long seed = 1; seed <= 4; seed++) {
            SplittableRandom random = new SplittableRandom(seed);
            int[] prompt = randomTokens(random, 40 + random.nextInt(120));
            GenerationSettings g = new GenerationSettings(30, 0f, 1f, 1, 1 + random.nextInt(9));
            DocumentSession doc = DocumentSession.start(model, newCache(), g, "d");
            int pos = 0;
            while (pos < prompt.length) {
                int n = Math.min(prompt.length - pos, random.nextInt(0, 50));
                boolean last = pos + n == prompt.length && random.nextBoolean();
                doc.prefill(Arrays.copyOfRange(prompt, pos, pos + n), last);
                pos += n;
                if (last) {
                    break;
                }
            }
            if (!doc.decoding()) {
                doc.prefill(new int[0], true);
            }
            assertArrayEquals(engineAlone(prompt, 30, new Sampler(0f, 1f, 0)), decodeAll(doc, g.sliceTokens()),
                    "seed=" + seed);
        }
    }

    @Test
    void shouldContinueIdenticallyWhenResumedFromStoredPagesDuringPrefill() {
        int[] prompt = randomTokens(new SplittableRandom(9), 150);
        GenerationSettings g = new GenerationSettings(25, 0f, 1f, 1, 4);
        InMemoryPageStore store = new InMemoryPageStore(PageLayout.of(model.config().headDim()), PageFormat.F32);
        PersistentFullCache cache = new PersistentFullCache(model.cacheShape(), store, 0);
        DocumentSession first = DocumentSession.start(model, cache, g, "d");
        first.prefill(Arrays.copyOfRange(prompt, 0, 77), false);
        cache.writeBack();
        DocumentProgress saved = first.progress();

        PersistentFullCache restored = new PersistentFullCache(model.cacheShape(), store, saved.cacheLength());
        DocumentSession second = DocumentSession.resume(model, restored, g, "d", saved);
        second.prefill(Arrays.copyOfRange(prompt, 77, prompt.length), true);
        assertEquals(prompt.length + 1, second.promptTokens());
        assertArrayEquals(engineAlone(prompt, 25, new Sampler(0f, 1f, 0)), decodeAll(second, 4));
    }

    @Test
    void shouldSampleTheSameTokensWhenResumedDuringDecoding() {
        int[] prompt = randomTokens(new SplittableRandom(3), 60);
        GenerationSettings g = new GenerationSettings(40, 0.9f, 0.9f, 1234, 5);
        DocumentSession whole = DocumentSession.start(model, newCache(), g, "doc-a");
        whole.prefill(prompt, true);
        int[] expected = decodeAll(whole, 5);

        InMemoryPageStore store = new InMemoryPageStore(PageLayout.of(model.config().headDim()), PageFormat.F32);
        PersistentFullCache cache = new PersistentFullCache(model.cacheShape(), store, 0);
        DocumentSession first = DocumentSession.start(model, cache, g, "doc-a");
        first.prefill(prompt, true);
        int[] head = new int[13];
        assertEquals(13, first.decode(13, head));
        cache.writeBack();
        DocumentProgress saved = first.progress();
        DocumentSession second = DocumentSession.resume(model,
                new PersistentFullCache(model.cacheShape(), store, saved.cacheLength()), g, "doc-a", saved);
        int[] tail = decodeAll(second, 5);
        int[] joined = Arrays.copyOf(head, head.length + tail.length);
        System.arraycopy(tail, 0, joined, head.length, tail.length);
        assertArrayEquals(expected, joined);
    }

    @Test
    void shouldRunOnlyWholeBatchesEndingAtAbsoluteMultiples() {
        int b = DocumentSession.PREFILL_BATCH;
        for (int position = 0; position < 3 * b; position++) {
            for (int available = 0; available < 3 * b; available++) {
                int run = DocumentSession.alignedRun(position, available);
                assertTrue(run >= 0 && run <= available, "position=" + position + " available=" + available);
                assertTrue(run == 0 || (position + run) % b == 0, "run must end on a batch boundary");
                for (int r = run + 1; r <= available; r++) {
                    assertTrue((position + r) % b != 0, "a later batch boundary was left unused: position="
                            + position + " available=" + available + " run=" + run);
                }
            }
        }
    }

    @Test
    void shouldRefusePrefillAfterTheLastChunk() {
        DocumentSession doc = DocumentSession.start(model, newCache(),
                new GenerationSettings(1, 0f, 1f, 1, 1), "d");
        doc.prefill(new int[] {5}, true);
        assertThrows(IllegalStateException.class, () -> doc.prefill(new int[] {6}, false));
    }

    private static PersistentFullCache newCache() {
        return new PersistentFullCache(model.cacheShape(),
                new InMemoryPageStore(PageLayout.of(model.config().headDim()), PageFormat.F32), 0);
    }

    static int[] engineAlone(int[] prompt, int maxTokens, Sampler sampler) {
        return engineAloneWith(model, new FullCache(model.cacheShape()), prompt, maxTokens, sampler);
    }

    /** The engine's plain loop over {@code cache}: BOS + prompt in one prefill, then sample/step. */
    static int[] engineAloneWith(LlamaModel model, KvCache cache, int[] prompt, int maxTokens, Sampler sampler) {
        Session s = model.newSession(cache);
        int[] all = new int[prompt.length + 1];
        all[0] = model.vocabulary().bos();
        System.arraycopy(prompt, 0, all, 1, prompt.length);
        float[] logits = s.prefill(all, 0, all.length, true);
        int[] out = new int[maxTokens];
        int n = 0;
        for (int i = 0; i < maxTokens; i++) {
            int t = sampler.sample(logits);
            if (t == model.vocabulary().eos()) {
                break;
            }
            out[n++] = t;
            if (i + 1 < maxTokens) {
                logits = s.step(t);
            }
        }
        return Arrays.copyOf(out, n);
    }

    private static int[] decodeAll(DocumentSession doc, int slice) {
        int[] out = new int[0];
        int[] buf = new int[slice];
        while (!doc.finished()) {
            int n = doc.decode(slice, buf);
            assertTrue(n <= slice);
            int[] joined = Arrays.copyOf(out, out.length + n);
            System.arraycopy(buf, 0, joined, out.length, n);
            out = joined;
        }
        return out;
    }

    private static int[] randomTokens(SplittableRandom random, int n) {
        return DecoderTestData.randomTokens(random, model.config().vocabSize(), n);
    }
}
