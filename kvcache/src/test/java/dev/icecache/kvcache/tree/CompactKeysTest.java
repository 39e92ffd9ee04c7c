package dev.icecache.kvcache.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The exact key-key product of compact keys: every path gives the true integer sum. */
class CompactKeysTest {

    @Test
    void shouldGiveTheExactIntegerProductOnTheVectorAndTheScalarPath() {
        boolean vector = RankingDotVector.hardwareSupported();
        for (long seed = 1; seed <= 300; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int d = (int) (seed % 131);
            int offA = rnd.nextInt(70);
            int offB = rnd.nextInt(70);
            byte[] codes = new byte[Math.max(offA, offB) + d];
            for (int i = 0; i < codes.length; i++) {
                // every third row at the extremes: the largest products and sums
                codes[i] = seed % 3 == 0 ? (byte) (rnd.nextBoolean() ? 127 : -127) : (byte) (rnd.nextInt(255) - 127);
            }
            long want = 0;
            for (int i = 0; i < d; i++) {
                want += (long) codes[offA + i] * codes[offB + i];
            }
            String msg = "seed=" + seed + " d=" + d + " offA=" + offA + " offB=" + offB;
            assertEquals(want, CompactKeys.scalarCodeDot(codes, offA, offB, d), "scalar " + msg);
            assertEquals(want, CompactKeys.codeDot(codes, offA, offB, d), "dispatch " + msg);
            if (vector) {
                assertEquals(want, CodeDotVector.codeDot(codes, offA, offB, d), "vector " + msg);
            }
        }
    }
}
