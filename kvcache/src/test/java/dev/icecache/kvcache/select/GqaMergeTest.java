package dev.icecache.kvcache.select;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GqaMergeTest {

    @Test
    void shouldTakeHeadsInTurnRankByRankSkippingDuplicates() {
        // head0 = [5, 3, 9], head1 = [3, 7]: rank 0 gives 5, 3; rank 1 gives (3), 7; rank 2 gives 9
        int[] lists = {5, 3, 9, 3, 7, 0};
        int[] out = new int[4];
        int n = new GqaMerge().merge(lists, 3, new int[] {3, 2}, 2, 4, out);
        assertEquals(4, n);
        assertArrayEquals(new int[] {5, 3, 7, 9}, out);
        n = new GqaMerge().merge(lists, 3, new int[] {3, 2}, 2, 2, out);
        assertArrayEquals(new int[] {5, 3}, Arrays.copyOf(out, n));
    }

    @Test
    void shouldMatchTheReferenceMergeAndTopKOnRandomLists() {
        GqaMerge merge = new GqaMerge();
        TopK top = new TopK();
        for (long seed = 1; seed <= 200; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int heads = 1 + rnd.nextInt(4);
            int universe = 1 + rnd.nextInt(300);
            int k = rnd.nextInt(20);
            int[] lists = new int[heads * k];
            int[] counts = new int[heads];
            List<List<Integer>> ref = new ArrayList<>();
            for (int h = 0; h < heads; h++) {
                float[] scores = new float[universe];
                for (int i = 0; i < universe; i++) {
                    scores[i] = rnd.nextInt(50); // many ties, broken by the smaller id
                }
                top.reset(k);
                for (int i = 0; i < universe; i++) {
                    top.offer(i, scores[i]);
                }
                counts[h] = top.drainBestFirst(lists, h * k);
                List<Integer> expect = SelectorFixture.topIds(scores, k);
                assertEquals(expect, SelectorFixture.asList(Arrays.copyOfRange(lists, h * k, h * k + k), counts[h]),
                        "seed=" + seed + " topK head " + h);
                ref.add(expect);
            }
            int[] out = new int[Math.max(1, k)];
            int n = merge.merge(lists, k, counts, heads, k, out);
            assertEquals(SelectorFixture.mergeRankByRank(ref, k), SelectorFixture.asList(out, n), "seed=" + seed);
        }
    }
}
