package dev.icecache.kvcache.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    @Test
    void shouldGiveFourRowsTheExactIntegerProductsOfTheirOwnCodeDots() {
        boolean vector = RankingDotVector.hardwareSupported();
        int[] out = new int[4];
        for (long seed = 1; seed <= 300; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int d = seed % 4 == 0 ? (int) (seed % 37) : 8 * (int) (seed % 17); // also d % 8 != 0: the fallback
            byte[] codes = new byte[5 * d + 50];
            for (int i = 0; i < codes.length; i++) {
                codes[i] = seed % 3 == 0 ? (byte) (rnd.nextBoolean() ? 127 : -127) : (byte) (rnd.nextInt(255) - 127);
            }
            int offA = rnd.nextInt(codes.length - d + 1);
            int[] b = new int[4];
            for (int u = 0; u < 4; u++) {
                b[u] = rnd.nextInt(codes.length - d + 1);
            }
            CompactKeys.codeDot4(codes, offA, b[0], b[1], b[2], b[3], d, out);
            int[] vec = new int[4];
            if (vector && d % 8 == 0) {
                CodeDotVector.codeDot4(codes, offA, b[0], b[1], b[2], b[3], d, vec);
            }
            for (int u = 0; u < 4; u++) {
                long want = 0;
                for (int i = 0; i < d; i++) {
                    want += (long) codes[offA + i] * codes[b[u] + i];
                }
                String msg = "seed=" + seed + " d=" + d + " row " + u;
                assertEquals(want, out[u], "dispatch " + msg);
                if (vector && d % 8 == 0) {
                    assertEquals(want, vec[u], "vector " + msg);
                }
            }
        }
    }

    @Test
    void shouldFindTheSameParentFourCandidatesAtATimeAsOneAtATime() {
        for (int d : new int[] {8, 12, 64}) {
            SplittableRandom rnd = new SplittableRandom(d);
            int n = 4000;
            DciTree tree = new DciTree(d, DciParams.defaults(), new Projection(d, rnd.split()));
            tree.add(TreeKeys.clustered(n, d, rnd), 0, TreeKeys.positions(n, 0), 0, n);
            TreeCore core = tree.core;
            DciLevel above = tree.level(1);
            assertTrue(above.count() >= 7, "d=" + d + ": a level 1 with more than one group of four (" + above.count() + ")");
            for (int token = 0; token < n; token += 7) {
                int x = core.nodes.nodeOf(token);
                int want = -1;
                double best = Double.NEGATIVE_INFINITY;
                for (int r = 0; r < above.count(); r++) {
                    double dot = core.mips.augmentedDot(core.nodes, x, above.node(r));
                    if (dot > best) {
                        best = dot;
                        want = above.node(r);
                    }
                }
                assertEquals(want, tree.finder.exact(x, above), "d=" + d + " token=" + token);
            }
        }
    }
}
