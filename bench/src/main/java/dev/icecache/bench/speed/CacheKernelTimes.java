package dev.icecache.bench.speed;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.HeadAttention;
import dev.icecache.kvcache.KvCache;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.kvcache.tree.DciParams;
import dev.icecache.kvcache.tree.DciTree;
import dev.icecache.kvcache.tree.Projection;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The KV-cache side of issue 13 in thread CPU time, before/after pairs in one process, for a
 * machine loaded far beyond its cores (wall time there measures the other tenants): each pair
 * runs in alternating rounds and reports the median round of each side.
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp bench.jar dev.icecache.bench.speed.CacheKernelTimes
 *   index      4 query heads of a GQA group: one tree search per head vs one group pass (same pages)
 *   dot        q.k over 64 floats: one in-order chain (before) vs the fixed 8-lane order (after)
 *   prefill    cache side of a 512-position prefill block, 6 layers of the 1B shape (no model): attend per
 *              position (a tree search per position and KV head) vs attendBlock per 32 positions,
 *              after a synthetic fill to depth - 512, at depths 4096 and 16384
 * </pre>
 */
public final class CacheKernelTimes {

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final int ROUNDS = 7;

    private CacheKernelTimes() {
    }

    public static void main(String[] args) {
        System.out.println("load " + Arrays.toString(loads()));
        for (int n : new int[] {4096, 16384}) {
            index(n);
        }
        dot();
        for (Policy p : new Policy[] {Policy.ICECACHE, Policy.QUEST}) {
            for (int depth : new int[] {4096, 16384}) {
                prefill(p, depth);
            }
        }
        System.out.println("load " + Arrays.toString(loads()));
    }

    private static double[] loads() {
        return new double[] {ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()};
    }

    private static long cpu() {
        return THREADS.getCurrentThreadCpuTime();
    }

    /** Median CPU ms per round of two alternating workloads. */
    private static void pair(String what, Runnable before, Runnable after, int perRound) {
        double[] a = new double[ROUNDS];
        double[] b = new double[ROUNDS];
        before.run();
        after.run();
        for (int r = 0; r < ROUNDS; r++) {
            long t = cpu();
            before.run();
            a[r] = (cpu() - t) / 1e6 / perRound;
            t = cpu();
            after.run();
            b[r] = (cpu() - t) / 1e6 / perRound;
        }
        Arrays.sort(a);
        Arrays.sort(b);
        double ma = a[ROUNDS / 2];
        double mb = b[ROUNDS / 2];
        System.out.printf(Locale.ROOT, "%-58s before %10.4f ms  after %10.4f ms  after/before %.3f%n", what, ma, mb,
                mb / ma);
    }

    private static void index(int n) {
        int hd = 64;
        int group = 4;
        int pages = 12;
        CacheShape shape = new CacheShape(1, 1, 1, hd, n + 1);
        SyntheticContext context = new SyntheticContext(shape, 1L);
        float[] keys = new float[n * hd];
        context.rows(0, 0, n, keys, new float[n * hd]);
        int[] tokens = new int[n];
        for (int i = 0; i < n; i++) {
            tokens[i] = i;
        }
        DciTree tree = new DciTree(hd, DciParams.defaults(), new Projection(hd, new SplittableRandom(1)));
        tree.add(keys, 0, tokens, 0, n);
        // a group's heads look at related keys: each head near the same cluster query, plus noise
        int queries = 64;
        float[] q = new float[queries * group * hd];
        float[] one = new float[hd];
        SplittableRandom rnd = new SplittableRandom(3);
        for (int i = 0; i < queries; i++) {
            context.query(0, i, one);
            for (int h = 0; h < group; h++) {
                for (int d = 0; d < hd; d++) {
                    q[(i * group + h) * hd + d] = one[d] + 0.3f * (float) rnd.nextGaussian();
                }
            }
        }
        int[] out = new int[group * pages];
        float[] scores = new float[group * pages];
        int[] counts = new int[group];
        pair(String.format(Locale.ROOT, "index: 4 heads at %d keys (per group)", n), () -> {
            for (int i = 0; i < queries; i++) {
                for (int h = 0; h < group; h++) {
                    tree.search(q, (i * group + h) * hd, pages, out, scores, null);
                }
            }
        }, () -> {
            for (int i = 0; i < queries; i++) {
                tree.searchGroup(q, i * group * hd, group, pages, out, scores, counts, null);
            }
        }, queries);
    }

    private static void dot() {
        int hd = 64;
        int rows = 16384;
        SplittableRandom rnd = new SplittableRandom(5);
        float[] k = new float[rows * hd];
        float[] q = new float[hd];
        for (int i = 0; i < k.length; i++) {
            k[i] = (float) rnd.nextGaussian();
        }
        for (int i = 0; i < hd; i++) {
            q[i] = (float) rnd.nextGaussian();
        }
        float[] sink = new float[1];
        pair("dot: q.k over 16384 rows of 64 (per pass)", () -> {
            float s = 0;
            for (int r = 0; r < rows; r++) {
                float d = 0f;
                for (int i = 0; i < hd; i++) {
                    d += q[i] * k[r * hd + i];
                }
                s += d;
            }
            sink[0] += s;
        }, () -> {
            float s = 0;
            for (int r = 0; r < rows; r++) {
                s += HeadAttention.dot(q, 0, k, r * hd, hd);
            }
            sink[0] += s;
        }, 1);
    }

    /** Cache-side CPU time per position of a 512-position block at {@code depth}. */
    private static void prefill(Policy policy, int depth) {
        CacheShape shape = new CacheShape(6, 32, 8, 64, depth + 16); // 2 dense + 4 sparse layers of the 1B shape
        int block = 512;
        int batch = 32;
        SyntheticContext context = new SyntheticContext(shape, 1L);
        KvCache perPosition = fill(policy, shape, context, depth - block);
        KvCache blocks = fill(policy, shape, context, depth - block);
        int kvDim = shape.kvDim();
        int qDim = shape.qDim();
        float[] k = new float[block * kvDim];
        float[] v = new float[block * kvDim];
        float[] q = new float[block * qDim];
        float[] out = new float[block * qDim];
        float[] one = new float[qDim];
        int start = depth - block;
        long[] spent = new long[2];
        for (int b = 0; b < block; b += batch) {
            for (int layer = 0; layer < shape.nLayers(); layer++) {
                context.rows(layer, start + b, batch, k, v);
                for (int t = 0; t < batch; t++) {
                    context.query(layer, start + b + t, one);
                    System.arraycopy(one, 0, q, t * qDim, qDim);
                }
                long t0 = cpu();
                for (int t = 0; t < batch; t++) {
                    perPosition.append(layer, start + b + t, k, t * kvDim, v, t * kvDim);
                }
                for (int t = 0; t < batch; t++) {
                    perPosition.attend(layer, start + b + t, q, t * qDim, out, t * qDim);
                }
                long t1 = cpu();
                for (int t = 0; t < batch; t++) {
                    blocks.append(layer, start + b + t, k, t * kvDim, v, t * kvDim);
                }
                blocks.attendBlock(layer, start + b, batch, q, 0, out, 0);
                spent[0] += t1 - t0;
                spent[1] += cpu() - t1;
            }
        }
        double a = spent[0] / 1e6 / block;
        double c = spent[1] / 1e6 / block;
        System.out.printf(Locale.ROOT, "%-58s before %10.4f ms  after %10.4f ms  after/before %.3f%n",
                String.format(Locale.ROOT, "prefill cache side %s, block ending at %d (per position)", policy, depth),
                a, c, c / a);
        perPosition.close();
        blocks.close();
    }

    private static KvCache fill(Policy policy, CacheShape shape, SyntheticContext context, int to) {
        KvCache cache = PolicyCaches.create(policy, shape, 256, 1L);
        context.fill(cache, to, PolicyCaches.attendFromLayer(cache), null);
        return cache;
    }
}
