package dev.icecache.kvcache.policy;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.FullCache;
import dev.icecache.kvcache.KvCache;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.tree.Projection;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * On keys that form clusters scattered over the sequence, with queries aimed at one cluster,
 * at a 64-token budget: IceCache (pages of similar keys) must come much closer to full attention
 * than StreamingLLM (sink + recent tokens only), and closer than the page-level oracle, whose
 * positional pages hold only one or two tokens of the cluster. A check that selection works end
 * to end, not a benchmark (measured: streaming 3.56, oracle 2.97, IceCache 1.20).
 */
class SelectionQualityTest {

    private static final int N = 1536;
    private static final int D = 16;
    private static final int CLUSTERS = 64;

    private static double error(Policy policy, CacheDriver data, float[][][] full, int from) {
        CacheShape shape = data.shape;
        KvCache cache = new PagedKvCache(shape, CacheConfig.of(policy, 64).withDenseLayers(0),
                new InMemoryPageStore(PageLayout.of(D), CacheConfig.DEFAULT_PAGE_FORMAT), new Projection(D, new SplittableRandom(3)));
        float[][][] out = data.newOutputs(N);
        data.run(cache, 0, from, new int[] {512}, out);
        data.run(cache, from, N, new int[] {1}, out);
        double err = 0;
        double norm = 0;
        for (int p = from; p < N; p++) {
            for (int i = 0; i < shape.qDim(); i++) {
                double e = out[0][p][i] - full[0][p][i];
                err += e * e;
                norm += (double) full[0][p][i] * full[0][p][i];
            }
        }
        return Math.sqrt(err / norm);
    }

    @Test
    void shouldFollowClusteredAttentionBetterWithSemanticPagesThanPositionalOnes() {
        CacheShape shape = new CacheShape(1, 2, 1, D, N);
        CacheDriver data = new CacheDriver(shape, 21, N);
        SplittableRandom rnd = new SplittableRandom(22);
        float[][] centers = new float[CLUSTERS][D];
        for (float[] c : centers) {
            for (int d = 0; d < D; d++) {
                c[d] = (float) rnd.nextGaussian();
            }
        }
        for (int p = 0; p < N; p++) {
            float[] c = centers[rnd.nextInt(CLUSTERS)];
            for (int d = 0; d < D; d++) {
                data.k[0][p][d] = c[d] + 0.1f * (float) rnd.nextGaussian();
            }
            float[] target = centers[rnd.nextInt(CLUSTERS)];
            for (int h = 0; h < 2; h++) {
                for (int d = 0; d < D; d++) {
                    data.q[0][p][h * D + d] = 3f * target[d] + 0.1f * (float) rnd.nextGaussian();
                }
            }
        }
        float[][][] full = data.newOutputs(N);
        data.run(new FullCache(shape), 0, N, new int[] {N}, full);
        int from = N - 64;
        double streaming = error(Policy.STREAMING, data, full, from);
        double ice = error(Policy.ICECACHE, data, full, from);
        double oracle = error(Policy.ORACLE, data, full, from);
        String all = String.format("relative error: streaming=%.3f icecache=%.3f oracle=%.3f", streaming, ice, oracle);
        assertTrue(streaming > 0.5, all);
        assertTrue(ice < 0.5 * streaming, all);
        assertTrue(oracle < streaming, all);
        // pages of similar keys hold many tokens of the cluster; positional pages hold one or two
        assertTrue(ice < oracle, all);
    }
}
