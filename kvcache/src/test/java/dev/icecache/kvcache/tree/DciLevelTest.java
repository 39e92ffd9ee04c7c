package dev.icecache.kvcache.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The dense (gap-list) level answers count, node(rank) and rankOf exactly as the plain list does. */
class DciLevelTest {

    @Test
    void shouldAnswerLikeTheListedLevelForRandomPromotions() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int trial = 0; trial < 50; trial++) {
            DciLevel dense = new DciLevel(true);
            DciLevel listed = new DciLevel(false);
            List<Integer> ids = new ArrayList<>();
            int n = 1 + rnd.nextInt(400);
            double promoted = trial % 5 == 0 ? 0.5 : 0.02;
            for (int x = 0; x < n; x++) {
                if (rnd.nextDouble() >= promoted) { // else the node went to a higher level
                    dense.add(x);
                    listed.add(x);
                    ids.add(x);
                }
            }
            assertEquals(ids.size(), dense.count());
            for (int r = 0; r < ids.size(); r++) {
                assertEquals((int) ids.get(r), dense.node(r), "trial " + trial + " rank " + r);
            }
            for (int x = -1; x <= n + 1; x++) {
                int expected = ids.indexOf(x);
                int got = dense.rankOf(x);
                if (expected >= 0) {
                    assertEquals(expected, got, "trial " + trial + " node " + x);
                    assertEquals(expected, listed.rankOf(x));
                } else {
                    assertTrue(got < 0 && listed.rankOf(x) < 0, "trial " + trial + " node " + x + " is not here");
                }
            }
        }
    }
}
