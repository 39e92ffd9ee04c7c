package dev.icecache.bench.fidelity;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LogitComparisonTest {

    @Test
    void shouldReportPerfectFidelityWhenLogitsAreEqual() {
        LogitComparison c = new LogitComparison();
        c.add(new float[] {1, 2, 3}, new float[] {1, 2, 3}, 0);
        c.add(new float[] {0, -1, 5}, new float[] {0, -1, 5}, 2);
        assertEquals(1.0, c.top1Agreement());
        assertEquals(0.0, c.klMean(), 1e-12);
        assertEquals(1.0, c.pplRatio(), 1e-12);
    }

    @Test
    void shouldComputeKlAndPerplexityOfTwoPointDistributions() {
        // full: p = (0.5, 0.5); policy: logits (ln 3, 0) -> q = (0.75, 0.25)
        LogitComparison c = new LogitComparison();
        c.add(new float[] {0, 0}, new float[] {(float) Math.log(3), 0}, 1);
        double expectKl = 0.5 * Math.log(0.5 / 0.75) + 0.5 * Math.log(0.5 / 0.25);
        assertEquals(expectKl, c.klMean(), 1e-7);
        assertEquals(expectKl, c.klP99(), 1e-7);
        // NLL full = ln 2, NLL policy = ln 4 -> ratio exp(ln 4 - ln 2) = 2
        assertEquals(2.0, c.pplRatio(), 1e-6);
        assertEquals(1.0, c.top1Agreement()); // argmax ties resolve to the first index in full; policy's argmax is 0
    }

    @Test
    void shouldCountDisagreementsAndTakeTheP99ByNearestRank() {
        LogitComparison c = new LogitComparison();
        for (int i = 0; i < 200; i++) {
            float[] full = {1, 0};
            float[] pol = i < 2 ? new float[] {0, 5} : new float[] {1, 0};
            c.add(full, pol, -1);
        }
        assertEquals(198 / 200.0, c.top1Agreement(), 1e-12);
        // 2 of 200 positions diverge: the 99th percentile (rank 198 of 200) is still 0
        assertEquals(0.0, c.klP99(), 1e-12);
        assertEquals(1.0, c.pplRatio(), 1e-12);
    }
}
