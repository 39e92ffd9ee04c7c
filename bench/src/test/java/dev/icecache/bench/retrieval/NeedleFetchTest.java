package dev.icecache.bench.retrieval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.bench.fidelity.FidelityRun;
import dev.icecache.bench.fidelity.KeyRecordingCache;
import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.kvcache.policy.Policy;
import org.junit.jupiter.api.Test;

/** NeedleFetch on hand-made keys whose softmax has a closed form, without a model. */
class NeedleFetchTest {

    private static final int HEAD_DIM = 4;
    private static final int POSITIONS = 100;

    /**
     * One sparse layer, one KV head with two query heads; every key is zero except those at
     * [valueStart, valueEnd), which are (a, 0, 0, 0); the query is (1, 0, 0, 0) for head 0 and
     * (0, 1, 0, 0) for head 1, so head 0 puts e^(a/2) on each value key and 1 on each other key,
     * and head 1 is uniform.
     */
    private static NeedleFetch observe(Policy policy, int budget, int valueStart, int valueEnd, float a) {
        CacheShape shape = new CacheShape(1, 2, 1, HEAD_DIM, 128);
        PagedKvCache cache = FidelityRun.newPagedCache(shape, CacheConfig.of(policy, budget).withDenseLayers(0), 1);
        KeyRecordingCache recorder = new KeyRecordingCache(cache);
        float[] k = new float[HEAD_DIM];
        float[] v = new float[HEAD_DIM];
        float[] q = {1, 0, 0, 0, 0, 1, 0, 0};
        float[] out = new float[2 * HEAD_DIM];
        int last = POSITIONS - 1;
        for (int p = 0; p < POSITIONS; p++) {
            k[0] = p >= valueStart && p < valueEnd ? a : 0;
            recorder.append(0, p, k, 0, v, 0);
            if (p == last) {
                NeedleFetch fetch = new NeedleFetch(recorder, valueStart, valueEnd, last);
                cache.observeAttendedPositions(fetch);
                recorder.attend(0, p, q, 0, out, 0);
                recorder.close();
                return fetch;
            }
            recorder.attend(0, p, q, 0, out, 0);
        }
        throw new AssertionError("unreachable");
    }

    @Test
    void shouldGiveTheClosedFormSoftmaxShareOnTheValueUnderFull() {
        NeedleFetch fetch = observe(Policy.FULL, 64, 10, 16, 3f);
        double e = Math.exp(3.0 / Math.sqrt(HEAD_DIM));
        double head0 = 6 * e / (6 * e + (POSITIONS - 6));
        double head1 = 6.0 / POSITIONS;
        assertEquals((head0 + head1) / 2, fetch.needleMass(), 1e-9);
        assertEquals(1, fetch.streams());
        assertEquals(1.0, fetch.fetchShare());
        assertEquals(1.0, fetch.fetchedAll());
    }

    @Test
    void shouldCountThePartOfTheValueAStreamingBudgetHolds() {
        // budget 64 = 1 sink page [0, 16) + 3 recent pages (window and the 2 streaming extends it by):
        // at position 99, with 0..98 committed in pages [16 + 16j, 32 + 16j), it holds [64, 99]
        NeedleFetch split = observe(Policy.STREAMING, 64, 13, 19, 0f);
        assertEquals(3 / 6.0, split.fetchShare(), 1e-12);
        assertEquals(0.0, split.fetchedAll());
        NeedleFetch inWindow = observe(Policy.STREAMING, 64, 70, 76, 0f);
        assertEquals(1.0, inWindow.fetchShare());
        NeedleFetch between = observe(Policy.STREAMING, 64, 20, 26, 0f);
        assertEquals(0.0, between.fetchShare());
        assertTrue(between.needleMass() > 0, "the mass is over all positions, attended or not");
    }

    @Test
    void shouldRejectValuePositionsAtOrAfterTheQuery() {
        CacheShape shape = new CacheShape(1, 2, 1, HEAD_DIM, 64);
        KeyRecordingCache recorder = new KeyRecordingCache(
                FidelityRun.newPagedCache(shape, CacheConfig.of(Policy.FULL, 64).withDenseLayers(0), 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new NeedleFetch(recorder, 5, 11, 10));
        assertEquals("value positions [5, 11) must be non-empty and before the query position 10", e.getMessage());
    }
}
