package dev.icecache.model.compute;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of threads that run one range task at a time, split into equal parts: the
 * caller runs part 0 and {@code parallelism - 1} daemon workers run the rest. Unlike a
 * ForkJoinPool it allocates nothing per call, so the forward pass stays allocation-free.
 *
 * <p>Callers from several threads are served one after another ({@link #run} is synchronized).
 * Workers spin briefly after each task (the next matrix product usually follows within
 * microseconds) and then park.
 */
public final class ComputePool {

    /** A unit of parallel work over the index range {@code [from, to)}; {@code part} picks per-part scratch. */
    public interface RangeTask {
        void run(int from, int to, int part);
    }

    private static final int SPINS = 1 << 14;
    private static ComputePool shared;

    private final int parallelism;
    private final Thread[] workers;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile int generation;
    private RangeTask task;      // published by the volatile write of generation
    private int items;
    private Thread caller;
    private volatile Throwable failure;

    /** A pool of {@code parallelism} threads in all (the caller counts as one). */
    public ComputePool(int parallelism) {
        if (parallelism < 1 || parallelism > 1024) {
            throw new IllegalArgumentException("parallelism=" + parallelism + " must be in [1, 1024]");
        }
        this.parallelism = parallelism;
        this.workers = new Thread[parallelism - 1];
        for (int i = 0; i < workers.length; i++) {
            int part = i + 1;
            workers[i] = new Thread(() -> workLoop(part), "icecache-compute-" + part);
            workers[i].setDaemon(true);
            workers[i].start();
        }
    }

    /**
     * The process-wide pool, created on first use with the thread count of the system property
     * {@code icecache.threads} (default: available processors).
     */
    public static synchronized ComputePool shared() {
        if (shared == null) {
            int threads = Integer.getInteger("icecache.threads", Runtime.getRuntime().availableProcessors());
            if (threads < 1) {
                throw new IllegalArgumentException("icecache.threads=" + threads + " must be >= 1");
            }
            shared = new ComputePool(threads);
        }
        return shared;
    }

    /** Threads that work on one task, the caller included. */
    public int parallelism() {
        return parallelism;
    }

    /** Runs {@code task} over {@code [0, n)} split into {@link #parallelism()} contiguous parts and waits for all. */
    public synchronized void run(int n, RangeTask task) {
        if (parallelism == 1 || n < parallelism) {
            task.run(0, n, 0);
            return;
        }
        this.task = task;
        this.items = n;
        this.caller = Thread.currentThread();
        this.failure = null;
        pending.set(workers.length);
        generation++;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
        try {
            task.run(0, n / parallelism, 0);
        } finally {
            int spins = 0;
            while (pending.get() != 0) {
                if (spins++ < SPINS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            this.task = null;
        }
        Throwable t = failure;
        if (t != null) {
            throw new IllegalStateException("a compute worker failed: " + t, t);
        }
    }

    private void workLoop(int part) {
        int seen = 0;
        while (true) {
            int g;
            int spins = 0;
            while ((g = generation) == seen) {
                if (spins++ < SPINS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            seen = g;
            int n = items;
            try {
                task.run((int) ((long) n * part / parallelism), (int) ((long) n * (part + 1) / parallelism), part);
            } catch (Throwable t) {
                failure = t;
            }
            if (pending.decrementAndGet() == 0) {
                LockSupport.unpark(caller);
            }
        }
    }
}
