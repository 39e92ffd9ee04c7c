package dev.icecache.bench.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.bench.plot.ResultTable;
import dev.icecache.kvcache.tree.DciParams;
import java.util.List;
import org.junit.jupiter.api.Test;

class IndexCostsTest {

    @Test
    void shouldScoreEveryTokenOnceWhenTheSearchIsExhaustive() {
        IndexCosts costs = new IndexCosts(16, DciParams.defaults().withExhaustiveSearch(), 4);
        IndexCosts.Point p = costs.measure(2000, 12, 1, 8, 2);
        assertEquals(2000, p.dotsPerQuery(), 0.0, "an exhaustive search scores each of the n tokens exactly once");
        assertEquals(1.0, p.dotShare(), 0.0);
        // the exhaustive search ranks every page by the tree's compact keys: it may swap pages
        // whose best float32 scores are within rounding, never many
        assertTrue(p.recall() >= 0.9 && p.recall() <= 1.0, "recall=" + p.recall());
    }

    @Test
    void shouldScoreFewerTokensThanNWithTheDefaultFieldOfView() {
        IndexCosts.Point p = new IndexCosts(16, DciParams.defaults(), 4).measure(20000, 12, 1, 8, 2);
        assertTrue(p.dotShare() > 0 && p.dotShare() < 1, "dots/n=" + p.dotShare());
    }

    @Test
    void shouldBuildPagesOfAtMostSixteenRowsCoveringEveryToken() {
        IndexCosts.Point p = new IndexCosts(16, DciParams.defaults(), 9).measure(1600, 12, 1, 4, 1);
        assertTrue(p.pages() >= 1600 / 16 && p.pages() <= 1600 / 8,
                "bulk load fills leaves with 8..16 rows, so 1600 tokens make 100..200 pages, got " + p.pages());
        assertTrue(p.buildNanosPer1k() > 0 && p.insertNanos() > 0 && p.queryNanos() > 0, "timings measured: " + p);
    }

    @Test
    void shouldRejectFewerTokensThanOneBatch() {
        IndexCosts costs = new IndexCosts(16, DciParams.defaults(), 1);
        assertThrows(IllegalArgumentException.class, () -> costs.measure(15, 12, 1, 1, 1));
    }

    @Test
    void shouldTabulateInMicrosecondsAndPercent() {
        ResultTable t = IndexCommand.table(List.of(new IndexCosts.Point(1000, 2.5e6, 1500, 40_000, 250, 70, 0.875)));
        assertEquals("n,pages,build ms / 1k tokens,insert us / 16-token batch,query us / head,exact dots / query,"
                + "dots / n %,recall vs exhaustive F32 %\n1000,70,2.50,1.50,40.0,250,25.0,87.5\n", t.csv());
    }
}
