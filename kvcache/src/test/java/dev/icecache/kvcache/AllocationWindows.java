package dev.icecache.kvcache;

import java.lang.management.ManagementFactory;

/**
 * Bytes a piece of work allocates on this thread, in the quietest of several windows. The JIT
 * compiles (and scalar-replaces the ranking kernel's vectors) in background threads, late on a
 * loaded machine, and a one-off event may land in any window; an allocation per call lands in
 * every one. So windows run until one is quiet or the limit is reached.
 */
public final class AllocationWindows {

    private AllocationWindows() {
    }

    /** The fewest bytes {@code work} allocated in one run, over up to {@code maxWindows} runs; stops at 0. */
    public static long fewestBytes(Runnable work, int maxWindows) {
        var threads = ManagementFactory.getThreadMXBean();
        if (!(threads instanceof com.sun.management.ThreadMXBean sun && sun.isThreadAllocatedMemorySupported())) {
            throw new IllegalStateException("needs com.sun.management.ThreadMXBean with allocation counting");
        }
        var counter = (com.sun.management.ThreadMXBean) threads;
        long tid = Thread.currentThread().getId();
        long fewest = Long.MAX_VALUE;
        for (int window = 0; window < maxWindows && fewest > 0; window++) {
            long before = counter.getThreadAllocatedBytes(tid);
            work.run();
            fewest = Math.min(fewest, counter.getThreadAllocatedBytes(tid) - before);
        }
        return fewest;
    }
}
