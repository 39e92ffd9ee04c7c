package dev.icecache.kvcache;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A test {@link RangeRunner} on real threads: {@code threads} threads (the caller and fresh ones)
 * claim chunks of the range from a counter, so which thread runs which index changes from call to
 * call, as in the engine's compute pool. The chunks are claimed from the end of the range first,
 * so no order of the serial loop is reproduced by accident.
 */
public final class ThreadedRangeRunner implements RangeRunner {

    private final int threads;

    public ThreadedRangeRunner(int threads) {
        this.threads = threads;
    }

    @Override
    public int parallelism() {
        return threads;
    }

    @Override
    public void runRange(int n, RangeTask task) {
        int chunks = Math.min(n, 3 * threads);
        AtomicInteger next = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread[] started = new Thread[threads - 1];
        for (int i = 0; i < started.length; i++) {
            int part = i + 1;
            started[i] = new Thread(() -> claim(n, chunks, next, task, part, failure), "test-attention-" + part);
            started[i].start();
        }
        claim(n, chunks, next, task, 0, failure);
        for (Thread t : started) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        if (failure.get() != null) {
            throw new IllegalStateException("a worker failed: " + failure.get(), failure.get());
        }
    }

    private static void claim(int n, int chunks, AtomicInteger next, RangeTask task, int part,
                              AtomicReference<Throwable> failure) {
        int c;
        while ((c = next.getAndIncrement()) < chunks) {
            int chunk = chunks - 1 - c;
            try {
                task.run((int) ((long) n * chunk / chunks), (int) ((long) n * (chunk + 1) / chunks), part);
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        }
    }
}
