package dev.icecache.kvcache.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link PageRowScores} against one {@link RankingDot#dot} per row, on every page of real trees. */
class PageRowScoresTest {

    @Test
    void shouldScoreEveryRowOfEveryPageAsOneDotPerRowDoes() {
        for (int d : new int[] {8, 12, 64}) { // 12: not a multiple of 8, the one-row path
            SplittableRandom rnd = new SplittableRandom(d);
            int n = 3000;
            float[] keys = TreeKeys.clustered(n, d, rnd);
            DciTree tree = new DciTree(d, DciParams.defaults(), new Projection(d, rnd.split()));
            tree.add(keys, 0, TreeKeys.positions(n, 0), 0, n);
            float[] q = TreeKeys.gaussian(1, d, rnd);
            TreeCore core = tree.core;
            PageRowScores scorer = new PageRowScores();
            float[] got = new float[core.params.leafCapacity()];
            int sizes = 0; // distinct page sizes seen, as bits: every remainder mod 4 must occur
            for (int page = 0; page < tree.pageIdLimit(); page++) {
                int rows = core.pages.rowCount(page);
                if (rows == 0) {
                    continue;
                }
                sizes |= 1 << (rows % 4);
                java.util.Arrays.fill(got, Float.NaN);
                scorer.score(core.pages, page, rows, q, 0, core.nodes.codes, core.nodes.scale, d, got);
                for (int s = 0; s < rows; s++) {
                    int x = core.pages.node(page, s);
                    float want = RankingDot.dot(q, 0, core.nodes.codes, x * d, d) * core.nodes.scale[x];
                    assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got[s]),
                            "d=" + d + " page=" + page + " slot=" + s + " of " + rows);
                }
                for (int s = rows; s < got.length; s++) {
                    assertTrue(Float.isNaN(got[s]), "d=" + d + " page=" + page + ": slot " + s + " past the rows written");
                }
            }
            assertEquals(0b1111, sizes, "d=" + d + ": pages of every size mod 4 (the short last group)");
        }
    }
}
