package dev.icecache.bench.document;

import dev.icecache.bench.speed.TimedKvCache;
import dev.icecache.kvcache.KvCache;
import dev.icecache.kvcache.metrics.CacheMetrics;
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
 */
record SummaryTime(int tokens, double seconds, double indexSeconds, double movesSeconds, double attentionSeconds,
                   double appendSeconds, double modelSeconds) {

    /** Tokens per second of the phase. */
    double rate() {
        return tokens / seconds;
    }

    /** Counters read before a phase. */
    private record Mark(long wall, long attend, long append, long index, long moves) {

        static Mark of(TimedKvCache timed) {
            CacheMetrics m = metrics(timed.inner());
            return new Mark(System.nanoTime(), timed.attendNanos(), timed.appendNanos(),
                    m == null ? 0 : m.indexNanos, m == null ? 0 : m.moveNanos);
        }
    }

    private static CacheMetrics metrics(KvCache cache) {
        return cache instanceof PagedKvCache p ? p.metrics() : null;
    }

    private static SummaryTime since(Mark a, TimedKvCache timed, int tokens) {
        Mark b = Mark.of(timed);
        double wall = (b.wall - a.wall) / 1e9;
        double attend = (b.attend - a.attend) / 1e9;
        double append = (b.append - a.append) / 1e9;
        double index = (b.index - a.index) / 1e9;
        double moves = (b.moves - a.moves) / 1e9;
        return new SummaryTime(tokens, wall, index, moves, attend - index - moves, append, wall - attend - append);
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
