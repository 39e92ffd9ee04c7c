package dev.icecache.kvcache.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.FullCache;
import dev.icecache.kvcache.HeadAttention;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * {@link BlockAttention} (one query per vector lane) against {@link HeadAttention#attend} (one
 * query at a time, the contract's reference): identical bits for every query of prefill blocks
 * and decode steps through {@link FullCache}, for head sizes with and without an 8- or 16-wide
 * tail and groups smaller and larger than a tile.
 */
class BlockAttentionTest {

    @ParameterizedTest
    @CsvSource({"64, 4, 32", "64, 1, 8", "12, 3, 6", "5, 2, 2", "24, 8, 8", "128, 2, 8", "16, 16, 16", "9, 20, 20"})
    void shouldGiveEveryQueryTheBitsOfHeadAttention(int headDim, int heads, int qHeadsTimesKv) {
        int kvHeads = Math.max(1, qHeadsTimesKv / heads);
        CacheShape shape = new CacheShape(1, kvHeads * heads, kvHeads, headDim, 200);
        SplittableRandom rnd = new SplittableRandom(headDim * 31L + heads);
        int n = shape.maxTokens();
        float[] k = gaussian(rnd, n * shape.kvDim(), 1f);
        float[] v = gaussian(rnd, n * shape.kvDim(), 1f);
        float[] q = gaussian(rnd, n * shape.qDim(), 3f); // peaked softmax: small weights underflow
        FullCache cache = new FullCache(shape);
        float[] out = new float[n * shape.qDim()];
        int[] blocks = {37, 1, 64, 1, 1, 16, 80};
        for (int p = 0, b = 0; p < n; b++) {
            int len = Math.min(blocks[b % blocks.length], n - p);
            for (int i = p; i < p + len; i++) {
                cache.append(0, i, k, i * shape.kvDim(), v, i * shape.kvDim());
            }
            cache.attendBlock(0, p, len, q, p * shape.qDim(), out, p * shape.qDim());
            p += len;
        }
        for (int p = 0; p < n; p++) {
            for (int head = 0; head < shape.nHeads(); head++) {
                int kvh = head / heads;
                float[][] kr = new float[p + 1][];
                float[][] vr = new float[p + 1][];
                int[] off = new int[p + 1];
                for (int i = 0; i <= p; i++) {
                    kr[i] = k;
                    vr[i] = v;
                    off[i] = i * shape.kvDim() + kvh * headDim;
                }
                float[] want = new float[headDim];
                HeadAttention.attend(q, p * shape.qDim() + head * headDim, kr, off, vr, off, p + 1, headDim,
                        new float[p + 1], want, 0);
                int at = p * shape.qDim() + head * headDim;
                assertArrayEquals(want, java.util.Arrays.copyOfRange(out, at, at + headDim),
                        "position=" + p + " head=" + head);
            }
        }
    }

    @Test
    void shouldRejectAQueryWithoutRows() {
        float[] rows = new float[8];
        assertEquals("limit[1]=0 must be >= 1", assertThrows(IllegalArgumentException.class,
                () -> BlockAttention.attendBlock(rows, 0, 4, 1, 2, new int[] {1, 0}, rows, rows, 4,
                        new BlockAttention.Scratch(), new float[8], 0, 4)).getMessage());
    }

    private static float[] gaussian(SplittableRandom rnd, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian() * scale;
        }
        return a;
    }
}
