package dev.icecache.kvcache.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link PageScore} against its formula, evaluated differently (no max shift, double throughout). */
class PageScoreTest {

    @Test
    void shouldEqualTheLogOfThePagesSoftmaxMassInQkUnits() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (int trial = 0; trial < 200; trial++) {
            int d = 8 << rnd.nextInt(4);
            int n = 1 + rnd.nextInt(16);
            float[] s = new float[n];
            float best = Float.NEGATIVE_INFINITY;
            double sum = 0;
            for (int i = 0; i < n; i++) {
                s[i] = (float) (rnd.nextGaussian() * 4);
                best = Math.max(best, s[i]);
                sum += Math.exp(s[i] / Math.sqrt(d));
            }
            double expected = Math.sqrt(d) * Math.log(sum);
            assertEquals(expected, PageScore.ATTENTION_MASS.of(s, n, best, d), 1e-4 * Math.max(1, Math.abs(expected)));
            assertEquals(best, PageScore.BEST_KEY.of(s, n, best, d));
            assertTrue(PageScore.ATTENTION_MASS.of(s, n, best, d) >= best);
        }
    }

    @Test
    void shouldRankTwoEqualRowsAboveOneAndKeepAOneRowPageAtItsScore() {
        float[] one = {2f};
        float[] two = {2f, 2f};
        assertEquals(2f, PageScore.ATTENTION_MASS.of(one, 1, 2f, 16));
        assertEquals(2 + 4 * Math.log(2), PageScore.ATTENTION_MASS.of(two, 2, 2f, 16), 1e-5);
    }
}
