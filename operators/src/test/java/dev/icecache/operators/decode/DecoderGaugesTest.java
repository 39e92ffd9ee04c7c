package dev.icecache.operators.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.icecache.kvcache.metrics.CacheCounters;
import dev.icecache.kvcache.metrics.CacheMetrics;
import org.junit.jupiter.api.Test;

/** The gauges' arithmetic over calls on several documents' metrics, against hand-computed values. */
class DecoderGaugesTest {

    private static void step(CacheMetrics m, long selected, long hits, long moved, long index, long move, long attend) {
        m.beginStep();
        m.stepPagesSelected = selected;
        m.stepResidentHits = hits;
        m.stepPagesMoved = moved;
        m.endStep(0, index, move, attend);
    }

    @Test
    void shouldReportNeutralValuesBeforeAnyWork() {
        DecoderGauges g = new DecoderGauges();
        assertEquals(0.0, g.pagesMovedPerStep());
        assertEquals(1.0, g.residentHitRate());
        assertEquals(0.0, g.indexTimeShare());
        assertEquals(0.0, g.prefillTokensPerSecond());
        assertEquals(0.0, g.decodeTokensPerSecond());
    }

    @Test
    void shouldCountOnlyTheStepsInsideCallsAcrossDocuments() {
        CacheMetrics restored = new CacheMetrics();
        step(restored, 100, 100, 0, 1_000, 1_000, 1_000); // before this subtask: not counted
        CacheMetrics fresh = new CacheMetrics();
        DecoderGauges g = new DecoderGauges();

        g.begin(restored, 0);
        step(restored, 8, 6, 2, 100_000_000, 50_000_000, 150_000_000);
        g.endPrefill(64, 500_000_000L); // 64 tokens in 0.5 s

        g.begin(fresh, 1_000_000_000L);
        step(fresh, 4, 1, 3, 20_000_000, 10_000_000, 30_000_000);
        step(fresh, 4, 3, 1, 20_000_000, 10_000_000, 30_000_000);
        g.endDecode(2, 1_250_000_000L); // 2 tokens in 0.25 s

        g.begin(CacheCounters.NONE, 2_000_000_000L); // a FULL document: time and tokens, no cache work
        g.endDecode(3, 2_250_000_000L);

        assertEquals(6.0 / 3, g.pagesMovedPerStep());
        assertEquals(10.0 / 16, g.residentHitRate());
        assertEquals(140_000_000 / 1e9, g.indexTimeShare(), 1e-12);
        assertEquals(70_000_000 / 1e9, g.moveTimeShare(), 1e-12);
        assertEquals(210_000_000 / 1e9, g.attentionTimeShare(), 1e-12);
        assertEquals(128.0, g.prefillTokensPerSecond(), 1e-9);
        assertEquals(10.0, g.decodeTokensPerSecond(), 1e-9);
    }
}
