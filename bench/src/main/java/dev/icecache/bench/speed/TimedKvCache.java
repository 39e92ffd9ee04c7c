package dev.icecache.bench.speed;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.KvCache;
import dev.icecache.kvcache.RangeRunner;

/**
 * A {@link KvCache} that passes every call through and adds up the time spent in {@code append}
 * and {@code attend}, so a decode step's time can be split into cache time and model time for
 * any cache, including {@link dev.icecache.kvcache.FullCache}, which keeps no metrics.
 */
public final class TimedKvCache implements KvCache {

    private final KvCache inner;
    private long appendNanos;
    private long attendNanos;

    /** Wraps {@code inner}; the caller keeps owning it. */
    public TimedKvCache(KvCache inner) {
        if (inner == null) {
            throw new IllegalArgumentException("inner cache must not be null");
        }
        this.inner = inner;
    }

    /** The wrapped cache. */
    public KvCache inner() {
        return inner;
    }

    /** Nanoseconds spent in append so far. */
    public long appendNanos() {
        return appendNanos;
    }

    /** Nanoseconds spent in attend so far. */
    public long attendNanos() {
        return attendNanos;
    }

    @Override
    public CacheShape shape() {
        return inner.shape();
    }

    @Override
    public int length() {
        return inner.length();
    }

    @Override
    public void append(int layer, int position, float[] k, int kOff, float[] v, int vOff) {
        long t = System.nanoTime();
        inner.append(layer, position, k, kOff, v, vOff);
        appendNanos += System.nanoTime() - t;
    }

    @Override
    public void attend(int layer, int position, float[] q, int qOff, float[] out, int outOff) {
        long t = System.nanoTime();
        inner.attend(layer, position, q, qOff, out, outOff);
        attendNanos += System.nanoTime() - t;
    }

    @Override
    public void attendBlock(int layer, int position, int n, float[] q, int qOff, float[] out, int outOff) {
        long t = System.nanoTime();
        inner.attendBlock(layer, position, n, q, qOff, out, outOff);
        attendNanos += System.nanoTime() - t;
    }

    @Override
    public void attendBlock(int layer, int position, int n, float[] q, int qOff, float[] out, int outOff,
                            RangeRunner workers) {
        long t = System.nanoTime();
        inner.attendBlock(layer, position, n, q, qOff, out, outOff, workers);
        attendNanos += System.nanoTime() - t;
    }

    @Override
    public void close() {
        inner.close();
    }
}
