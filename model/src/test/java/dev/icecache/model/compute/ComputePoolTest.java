package dev.icecache.model.compute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
}
