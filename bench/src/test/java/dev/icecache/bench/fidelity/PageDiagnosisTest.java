package dev.icecache.bench.fidelity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.kvcache.tree.Projection;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link PageDiagnosis} on seeded random keys through a real PagedKvCache: for a positional
 * policy the policy's own pages ARE the positional pages, so every own / positional pair must be
 * equal; for IceCache the own pages differ, and the own-page oracle must be at least the recall
 * the policy itself reached when each query head has the group to itself.
 */
class PageDiagnosisTest {

    private static final int DENSE = 1;

    @ParameterizedTest(name = "{0}@{1} seed={2}")
    @CsvSource({"QUEST, 64, 1", "ORACLE, 128, 2", "STREAMING, 64, 3"})
    void shouldGiveEqualOwnAndPositionalFiguresForPositionalPages(Policy policy, int budget, long seed) {
        CacheShape shape = new CacheShape(3, 4, 2, 8, 260);
        PageDiagnosis d = run(shape, policy, budget, seed).diagnosis();
        PageDiagnosis.Totals t = d.all();
        assertTrue(t.samples > 0);
        assertEquals(t.positionalOracleRecall(), t.ownOracleRecall(), 1e-12);
        assertEquals(t.positionalTopKInOnePage(), t.ownTopKInOnePage(), 1e-12);
        assertEquals(t.positionalPagesSpanned(), t.ownPagesSpanned(), 1e-12);
        assertEquals(t.positionalSpread(), t.ownSpread(), 1e-12);
        assertTrue(t.ownOracleRecall() < 1.0 && t.ownOracleRecall() > 0.0);
    }

    @ParameterizedTest(name = "ICECACHE@{0} seed={1}")
    @CsvSource({"64, 4", "128, 5"})
    void shouldBoundIceCacheRecallByItsOwnPageOracleWithOneQueryHeadPerKvHead(int budget, long seed) {
        // group size 1: the oracle's per-head choice is the best set of own pages by exact mass
        CacheShape shape = new CacheShape(3, 2, 2, 8, 260);
        Measured m = run(shape, Policy.ICECACHE, budget, seed);
        PageDiagnosis.Totals t = m.diagnosis().all();
        assertTrue(t.ownOracleRecall() + 1e-9 >= m.recall(), t.ownOracleRecall() + " < " + m.recall());
        assertTrue(t.ownSpread() > 0 && t.positionalSpread() > 0);
    }

    private record Measured(PageDiagnosis diagnosis, double recall) {
    }

    private static Measured run(CacheShape shape, Policy policy, int budget, long seed) {
        CacheConfig config = CacheConfig.of(policy, budget).withDenseLayers(DENSE);
        PagedKvCache cache = new PagedKvCache(shape, config,
                new InMemoryPageStore(PageLayout.of(shape.headDim()), config.pageFormat()),
                new Projection(shape.headDim(), new SplittableRandom(seed)));
        KeyRecordingCache recorder = new KeyRecordingCache(cache);
        AttentionRecall recall = new AttentionRecall(recorder, config, 16);
        PageDiagnosis diagnosis = new PageDiagnosis(recorder, cache.selector(), config, recall, 16);
        cache.observeAttendedPositions((layer, kvHead, position, positions, count) -> {
            recall.accept(layer, kvHead, position, positions, count);
            diagnosis.accept(layer, kvHead, position, positions, count);
        });
        SplittableRandom rnd = new SplittableRandom(seed);
        int n = shape.maxTokens();
        float[] out = new float[shape.qDim()];
        for (int p = 0; p < n; p++) {
            for (int l = 0; l < shape.nLayers(); l++) {
                recorder.append(l, p, gaussian(rnd, shape.kvDim(), 1.5), 0, gaussian(rnd, shape.kvDim(), 1.0), 0);
                recorder.attend(l, p, gaussian(rnd, shape.qDim(), 1.5), 0, out, 0);
            }
        }
        diagnosis.measureSpread(n);
        // the diagnosis skips positions before anything is indexed; compare over the same samples
        double skipped = recall.all().samples() - diagnosis.all().samples;
        double policyRecall = (recall.all().attentionRecall() * recall.all().samples() - skipped)
                / diagnosis.all().samples;
        return new Measured(diagnosis, policyRecall);
    }

    private static float[] gaussian(SplittableRandom rnd, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextGaussian() * scale);
        }
        return x;
    }
}
