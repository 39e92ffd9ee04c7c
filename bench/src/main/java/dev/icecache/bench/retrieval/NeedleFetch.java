package dev.icecache.bench.retrieval;

import dev.icecache.bench.fidelity.KeyRecordingCache;
import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.metrics.AttendedPositions;

/**
 * Whether a policy fetched the planted value at the first answer step: for each sparse
 * (layer, KV head) stream, which of the value's positions were among the rows the attend of
 * the query position reduced over; plus the exact softmax share those positions hold, the
 * model's own attention to the needle (meaningful under the full cache).
 *
 * <pre>
 *   per stream s:       share_s = |attended ∩ [valueStart, valueEnd)| / (valueEnd - valueStart)
 *   fetch share        = mean_s share_s           fetched all = share of streams with share_s = 1
 *   per query head g:   mass_g = sum_{i in value} e^{q_g.k_i/sqrt(d)} / sum_{i <= p} e^{q_g.k_i/sqrt(d)}
 *   needle mass        = mean_g mass_g            (sparse layers; keys and query from the recorder)
 * </pre>
 *
 * Register it with {@code PagedKvCache.observeAttendedPositions} for the one step whose query
 * position it was built for; dense layers attend every position and are not reported.
 */
final class NeedleFetch implements AttendedPositions {

    private final KeyRecordingCache recorder;
    private final CacheShape shape;
    private final int valueStart;
    private final int valueEnd;
    private final int queryPosition;
    private int streams;
    private double shareSum;
    private int fetchedAll;
    private int heads;
    private double massSum;

    /**
     * @param recorder the decorator around the observed cache (keys and the query of the attend)
     * @param valueStart first position of the planted value
     * @param valueEnd one past its last position (&gt; valueStart, &lt;= queryPosition)
     * @param queryPosition the position of the observed step
     */
    NeedleFetch(KeyRecordingCache recorder, int valueStart, int valueEnd, int queryPosition) {
        if (valueStart < 0 || valueEnd <= valueStart || valueEnd > queryPosition) {
            throw new IllegalArgumentException("value positions [" + valueStart + ", " + valueEnd
                    + ") must be non-empty and before the query position " + queryPosition);
        }
        this.recorder = recorder;
        this.shape = recorder.shape();
        this.valueStart = valueStart;
        this.valueEnd = valueEnd;
        this.queryPosition = queryPosition;
    }

    @Override
    public void accept(int layer, int kvHead, int position, int[] positions, int count) {
        if (position != queryPosition || recorder.queryLayer() != layer || recorder.queryPosition() != position) {
            throw new IllegalStateException("attended positions of layer=" + layer + " position=" + position
                    + " arrived for a needle fetch of position " + queryPosition + " (recorder at layer="
                    + recorder.queryLayer() + " position=" + recorder.queryPosition() + "); observe only that step,"
                    + " on the cache the recorder wraps");
        }
        int hits = 0;
        for (int i = 0; i < count; i++) {
            int p = positions[i];
            hits += p >= valueStart && p < valueEnd ? 1 : 0;
        }
        streams++;
        shareSum += (double) hits / (valueEnd - valueStart);
        fetchedAll += hits == valueEnd - valueStart ? 1 : 0;
        int group = shape.groupSize();
        for (int g = 0; g < group; g++) {
            massSum += needleMass(layer, kvHead, kvHead * group + g);
            heads++;
        }
    }

    private double needleMass(int layer, int kvHead, int head) {
        int hd = shape.headDim();
        float[] keys = recorder.keys(layer, kvHead);
        float[] q = recorder.query();
        int qOff = head * hd;
        double scale = 1.0 / Math.sqrt(hd);
        int n = queryPosition + 1;
        double[] scores = new double[n];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int d = 0; d < hd; d++) {
                s += (double) q[qOff + d] * keys[i * hd + d];
            }
            scores[i] = s * scale;
            max = Math.max(max, scores[i]);
        }
        double total = 0;
        double needle = 0;
        for (int i = 0; i < n; i++) {
            double e = Math.exp(scores[i] - max);
            total += e;
            needle += i >= valueStart && i < valueEnd ? e : 0;
        }
        return needle / total;
    }

    /** Sparse streams observed. */
    int streams() {
        return streams;
    }

    /** Mean over streams of the share of the value's positions attended; NaN when none was observed. */
    double fetchShare() {
        return streams == 0 ? Double.NaN : shareSum / streams;
    }

    /** Share of streams that attended every position of the value; NaN when none was observed. */
    double fetchedAll() {
        return streams == 0 ? Double.NaN : (double) fetchedAll / streams;
    }

    /** Mean over sparse query heads of the exact softmax share on the value; NaN when none was observed. */
    double needleMass() {
        return heads == 0 ? Double.NaN : massSum / heads;
    }
}
