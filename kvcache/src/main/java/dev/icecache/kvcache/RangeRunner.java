package dev.icecache.kvcache;

/**
 * Runs a task over an index range {@code [0, n)} on one or more threads and returns when every
 * index is done: the seam through which a cache spreads the attention of a layer over the
 * engine's compute threads (the model's {@code ComputePool} implements it) without this library
 * depending on the engine.
 *
 * <p>Each index is run exactly once, by one thread, with a {@code part} in
 * {@code [0, parallelism())} that no other thread uses at the same time, so a task can keep one
 * scratch buffer per part. Which thread runs which index varies from call to call: a task whose
 * indices write disjoint outputs gives the same bits for any parallelism.
 */
public interface RangeRunner {

    /** Work over the index range {@code [from, to)}; {@code part} picks per-thread scratch. */
    interface RangeTask {
        void run(int from, int to, int part);
    }

    /** Runs everything on the calling thread. */
    RangeRunner SERIAL = new RangeRunner() {
        @Override
        public int parallelism() {
            return 1;
        }

        @Override
        public void runRange(int n, RangeTask task) {
            task.run(0, n, 0);
        }
    };

    /** Threads that may run parts of one task at once (the caller counts as one); parts are below this. */
    int parallelism();

    /** Runs {@code task} over {@code [0, n)} and returns when all of it is done. */
    void runRange(int n, RangeTask task);
}
