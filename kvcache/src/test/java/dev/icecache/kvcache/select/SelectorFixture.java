package dev.icecache.kvcache.select;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.HeadAttention;
import dev.icecache.kvcache.tree.DciParams;
import dev.icecache.kvcache.tree.Projection;
import dev.icecache.kvcache.tree.RankingReference;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.SplittableRandom;

/** Shared data and brute-force references for selector tests. */
final class SelectorFixture {

    static final int SINK = 32;

    private SelectorFixture() {
    }

    static SelectorSpec spec(CacheShape shape, int firstSparse, DciParams params, int reuse) {
        return new SelectorSpec(shape, firstSparse, SINK, 16, params,
                new Projection(shape.headDim(), new SplittableRandom(9)), reuse);
    }

    static float[] gaussian(int n, SplittableRandom rnd) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    static int[] positions(int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = SINK + i;
        }
        return t;
    }

    /** Ids sorted by score, best first, ties to the smaller id; the first k of them. */
    static List<Integer> topIds(float[] scores, int k) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < scores.length; i++) {
            ids.add(i);
        }
        ids.sort(Comparator.<Integer>comparingDouble(i -> -scores[i]).thenComparing(i -> i));
        return ids.subList(0, Math.min(k, ids.size()));
    }

    /** Rank-by-rank merge of per-head lists, first k distinct. */
    static List<Integer> mergeRankByRank(List<List<Integer>> perHead, int k) {
        LinkedHashSet<Integer> out = new LinkedHashSet<>();
        for (int rank = 0; out.size() < k; rank++) {
            boolean any = false;
            for (List<Integer> list : perHead) {
                if (rank < list.size()) {
                    any = true;
                    if (out.size() < k) {
                        out.add(list.get(rank));
                    }
                }
            }
            if (!any) {
                break;
            }
        }
        return new ArrayList<>(out);
    }

    static float dot(float[] q, int qOff, float[] keys, int kOff, int d) {
        return HeadAttention.dot(q, qOff, keys, kOff, d);
    }

    /** q.k of the compact key in the order the DCI-tree search ranks with (its own oracle, not the kernel). */
    static float rankingDot(float[] q, int qOff, float[] keys, int kOff, int d) {
        return RankingReference.compactDot(q, qOff, keys, kOff, d);
    }

    static List<Integer> asList(int[] a, int n) {
        List<Integer> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(a[i]);
        }
        return l;
    }
}
