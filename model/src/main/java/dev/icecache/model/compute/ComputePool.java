package dev.icecache.model.compute;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of threads that run one range task at a time: the caller and
 * {@code parallelism - 1} daemon workers claim chunks of the range from a shared counter until
 * none are left. Unlike a ForkJoinPool it allocates nothing per call, so the forward pass stays
 * allocation-free.
 *
 * <p>Claiming chunks (rather than a fixed split) keeps a busy machine from stalling the caller:
 * a worker that the OS has not scheduled simply claims nothing, and the caller does its share.
 * The claim counter carries the task's generation in its upper 32 bits, so a worker that wakes
 * late can never claim a chunk of a later task with an earlier task's operands.
 *
 * <p>Callers from several threads are served one after another ({@link #run} is synchronized).
 * Idle threads spin briefly (the next matrix product usually follows within microseconds) and
 * then park.
 */
public final class ComputePool {

    /** A unit of parallel work over the index range {@code [from, to)}; {@code part} picks per-thread scratch. */
    public interface RangeTask {
        void run(int from, int to, int part);
    }

    private static final int SPINS = 1 << 12;
    private static final int CHUNKS_PER_THREAD = 4;
    private static ComputePool shared;

    private final int parallelism;
    private final Thread[] workers;
    /** (generation << 32) | next chunk to claim. */
    private final AtomicLong claims = new AtomicLong();
    private final AtomicInteger completed = new AtomicInteger();
    private volatile int generation;
    // operands of the running task; volatile so that reading any of them orders after the claims reset
    private volatile RangeTask task;
    private volatile int items;
    private volatile int chunks;
    private volatile Thread caller;
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

    /** Runs {@code task} over {@code [0, n)} in contiguous chunks on all threads and waits for all. */
    public synchronized void run(int n, RangeTask task) {
        if (parallelism == 1 || n < 2) {
            task.run(0, n, 0);
            return;
        }
        int g = generation + 1;
        completed.set(0);
        claims.set((long) g << 32); // from here on, claims of the previous task fail
        this.task = task;
        this.items = n;
        this.chunks = Math.min(n, parallelism * CHUNKS_PER_THREAD);
        this.caller = Thread.currentThread();
        this.failure = null;
        generation = g;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
        try {
            work(g, 0);
        } finally {
            int spins = 0;
            while (completed.get() != chunks) {
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

    /** Claims and runs chunks of generation g until none are left. */
    private void work(int g, int part) {
        RangeTask t = task;
        int n = items;
        int c = chunks;
        while (true) {
            long v = claims.get();
            int chunk = (int) v;
            if ((int) (v >>> 32) != g || chunk >= c) {
                return;
            }
            if (!claims.compareAndSet(v, v + 1)) {
                continue;
            }
            try {
                t.run((int) ((long) n * chunk / c), (int) ((long) n * (chunk + 1) / c), part);
            } catch (Throwable e) {
                failure = e;
            }
            if (completed.incrementAndGet() == c) {
                LockSupport.unpark(caller);
            }
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
            work(g, part);
        }
    }
}
