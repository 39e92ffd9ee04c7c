package dev.icecache.kvcache.tree;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SmokeTest {
    @Test
    void smoke() {
        int d = 16;
        var rnd = new SplittableRandom(1);
        int n = 5000;
        float[] keys = TreeKeys.clustered(n, d, rnd);
        int[] tok = TreeKeys.positions(n, 0);
        DciTree bulk = new DciTree(d, DciParams.defaults(), new Projection(d, new SplittableRandom(7)));
        bulk.add(keys, 0, tok, 0, n);
        bulk.checkInvariants();
        DciTree inc = new DciTree(d, DciParams.defaults(), new Projection(d, new SplittableRandom(7)));
        for (int i = 0; i < n; i += 16) {
            int m = Math.min(16, n - i);
            inc.add(keys, i * d, tok, i, m);
            inc.checkInvariants();
        }
        System.out.println("bulk pages " + bulk.pageIdLimit() + " inc pages " + inc.pageIdLimit() + " top " + bulk.top + " " + inc.top);
    }
}
