package dev.icecache.model.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.FullCache;
import dev.icecache.kvcache.RangeRunner;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.Test;

/** Every index runs exactly once whichever thread claims it; a failure in any chunk reaches the caller. */
class ComputePoolTest {

    @Test
    void shouldCoverEveryIndexExactlyOnce() {
        ComputePool pool = new ComputePool(3);
        for (int n : new int[] {0, 1, 2, 3, 7, 100, 1001}) {
            for (int round = 0; round < 50; round++) {
                AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(n, 1));
                pool.run(n, (from, to, part) -> {
                    for (int i = from; i < to; i++) {
                        hits.incrementAndGet(i);
                    }
                });
                for (int i = 0; i < n; i++) {
                    assertEquals(1, hits.get(i), "n=" + n + " round=" + round + " index=" + i);
                }
            }
        }
    }

    @Test
    void shouldRethrowAWorkerFailure() {
        ComputePool pool = new ComputePool(2);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.run(10, (from, to, part) -> {
            if (from <= 7 && 7 < to) {
                throw new ArithmeticException("boom");
            }
        }));
        assertTrue(e.getMessage().contains("boom"), e.getMessage());
        AtomicIntegerArray hits = new AtomicIntegerArray(10);
        pool.run(10, (from, to, part) -> {
            for (int i = from; i < to; i++) {
                hits.incrementAndGet(i);
            }
        });
        assertEquals(1, hits.get(9), "pool still works after a failure");
    }

    /** The pool as the caches' {@link RangeRunner}: a layer's attention gives the serial bits on 1, 2 and 4 threads. */
    @Test
    void shouldGiveAttentionTheSerialBitsOnAnyThreadCount() {
        CacheShape shape = new CacheShape(1, 8, 2, 16, 300);
        SplittableRandom rnd = new SplittableRandom(5);
        float[] k = new float[shape.maxTokens() * shape.kvDim()];
        float[] v = new float[k.length];
        float[] q = new float[shape.maxTokens() * shape.qDim()];
        for (float[] a : new float[][] {k, v, q}) {
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) rnd.nextGaussian();
            }
        }
        float[] serial = attendInBlocks(shape, k, v, q, RangeRunner.SERIAL);
        for (int threads : new int[] {1, 2, 4}) {
            assertArrayEquals(serial, attendInBlocks(shape, k, v, q, new ComputePool(threads)), "threads=" + threads);
        }
    }

    private static float[] attendInBlocks(CacheShape shape, float[] k, float[] v, float[] q, RangeRunner workers) {
        FullCache cache = new FullCache(shape);
        float[] out = new float[q.length];
        int n = shape.maxTokens();
        int block = 64;
        for (int p = 0; p < n; ) {
            int len = Math.min(block, n - p);
            for (int i = p; i < p + len; i++) {
                cache.append(0, i, k, i * shape.kvDim(), v, i * shape.kvDim());
            }
            cache.attendBlock(0, p, len, q, p * shape.qDim(), out, p * shape.qDim(), workers);
            p += len;
            block = block == 64 ? 1 : 64; // prefill blocks and decode steps in turn
        }
        return out;
    }
}
