package dev.icecache.bench.document;

import dev.icecache.bench.speed.TimedKvCache;
import dev.icecache.kvcache.KvCache;
import dev.icecache.kvcache.metrics.CacheCounters;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.model.Sampler;
import dev.icecache.model.Session;

/**
 * Times one phase (a prefill of real tokens, or greedy generation) of a session over a
 * {@link TimedKvCache}, split into index / moves / attention / append / model.
 *
 * <pre>
 *   index, moves   PagedKvCache metrics (selection and page traffic of the sparse layers)
 *   attention      time inside attend/attendBlock minus index and moves (dense layers included)
 *   append         time inside append (commits chunks, grows the index, writes pages)
 *   model          wall time minus attend and append: matrix products, norms, sampling
 * </pre>
 *
 * With {@link #cpuClock} the phase's seconds are this thread's CPU time (run with one compute
 * thread, so all the work is on it) and each part is its wall-clock share of that: on a machine
 * loaded far beyond its cores, wall time measures the other tenants, CPU time the work.
 */
record SummaryTime(int tokens, double seconds, double indexSeconds, double movesSeconds, double attentionSeconds,
                   double appendSeconds, double modelSeconds) {

    /** Tokens per second of the phase. */
    double rate() {
        return tokens / seconds;
    }

    /** Whether phases are timed by this thread's CPU time (see the class comment) rather than wall time. */
    static boolean cpuClock;

    /** Counters read before a phase. */
    private record Mark(long wall, long cpu, long attend, long append, long index, long moves) {

        static Mark of(TimedKvCache timed) {
            CacheCounters m = metrics(timed.inner());
            long cpu = cpuClock ? java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() : 0;
            return new Mark(System.nanoTime(), cpu, timed.attendNanos(), timed.appendNanos(),
                    m.indexNanos(), m.moveNanos());
        }
    }

    private static CacheCounters metrics(KvCache cache) {
        return cache instanceof PagedKvCache p ? p.metrics() : CacheCounters.NONE;
    }

    private static SummaryTime since(Mark a, TimedKvCache timed, int tokens) {
        Mark b = Mark.of(timed);
        double wall = (b.wall - a.wall) / 1e9;
        double attend = (b.attend - a.attend) / 1e9;
        double append = (b.append - a.append) / 1e9;
        double index = (b.index - a.index) / 1e9;
        double moves = (b.moves - a.moves) / 1e9;
        double f = cpuClock ? (b.cpu - a.cpu) / 1e9 / wall : 1.0; // parts keep their wall-clock shares
        return new SummaryTime(tokens, wall * f, index * f, moves * f, (attend - index - moves) * f, append * f,
                (wall - attend - append) * f);
    }

    /**
     * Prefills {@code tokens[off .. off+n)} at the session's position, samples the first generated
     * token greedily into {@code firstToken[0]}, and times both.
     */
    static SummaryTime prefill(Session session, TimedKvCache timed, int[] tokens, int off, int n, int[] firstToken) {
        Mark a = Mark.of(timed);
        firstToken[0] = new Sampler(0f, 1f, 0).sample(session.prefill(tokens, off, n, true));
        return since(a, timed, n);
    }

    /** Runs {@code n} greedy steps from {@code firstToken} (the token sampled after the prefill) and times them. */
    static SummaryTime generate(Session session, TimedKvCache timed, int firstToken, int n) {
        Sampler greedy = new Sampler(0f, 1f, 0);
        Mark a = Mark.of(timed);
        int token = firstToken;
        for (int i = 0; i < n; i++) {
            token = greedy.sample(session.step(token));
        }
        return since(a, timed, n);
    }
}
