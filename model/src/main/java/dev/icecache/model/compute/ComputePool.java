package dev.icecache.model.compute;

import dev.icecache.kvcache.RangeRunner;
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
 *
 * <p>It is also the caches' {@link RangeRunner} (attention spread by KV head). NOTE: the matrix
 * products keep their own task type, {@link RangeTask}, which only {@code MatMul} implements; with
 * one implementor the JIT binds its call statically, and the kernels' vectors stay unboxed (when
 * the caches' tasks shared that call site, decode allocated megabytes per step in
 * {@code AllocationFreeDecodeTest}).
 */
public final class ComputePool implements RangeRunner {

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
    private volatile RangeTask task;                // a matrix product, or null
    private volatile RangeRunner.RangeTask rangeTask; // a cache's task when task is null
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
    @Override
    public int parallelism() {
        return parallelism;
    }

    /** Runs {@code task} over {@code [0, n)} in contiguous chunks on all threads and waits for all. */
    public synchronized void run(int n, RangeTask task) {
        if (parallelism == 1 || n < 2) {
            task.run(0, n, 0);
            return;
        }
        start(n, task, null);
    }

    /** {@link #run} for a cache's task (see the class comment for why it is a separate type). */
    @Override
    public synchronized void runRange(int n, RangeRunner.RangeTask task) {
        if (parallelism == 1 || n < 2) {
            task.run(0, n, 0);
            return;
        }
        start(n, null, task);
    }

    /** Hands one of the two tasks to the workers, does a share of it and waits for all. */
    private void start(int n, RangeTask task, RangeRunner.RangeTask rangeTask) {
        int g = generation + 1;
        completed.set(0);
        claims.set((long) g << 32); // from here on, claims of the previous task fail
        this.task = task;
        this.rangeTask = rangeTask;
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
            this.rangeTask = null;
        }
        Throwable t = failure;
        if (t != null) {
            throw new IllegalStateException("a compute worker failed: " + t, t);
        }
    }

    /** Claims and runs chunks of generation g until none are left. */
    private void work(int g, int part) {
        RangeTask t = task;
        RangeRunner.RangeTask r = rangeTask;
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
                int from = (int) ((long) n * chunk / c);
                int to = (int) ((long) n * (chunk + 1) / c);
                if (t != null) {
                    t.run(from, to, part);
                } else {
                    r.run(from, to, part);
                }
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
