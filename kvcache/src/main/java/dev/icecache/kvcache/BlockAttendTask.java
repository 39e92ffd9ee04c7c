package dev.icecache.kvcache;

/**
 * The operands of one {@link KvCache#attendBlock} call as a {@link RangeRunner.RangeTask}: a
 * cache keeps one (nothing is allocated per call), {@link #runOn} sets the operands, runs the
 * units on the runner's threads and drops the array references.
 */
public abstract class BlockAttendTask implements RangeRunner.RangeTask {

    protected int layer;
    protected int position;
    protected int n;
    protected float[] q;
    protected int qOff;
    protected float[] out;
    protected int outOff;

    /** Runs units {@code [0, units)} of the block {@code position .. position+n-1} of {@code layer} on {@code workers}. */
    public final void runOn(RangeRunner workers, int units, int layer, int position, int n, float[] q, int qOff,
                            float[] out, int outOff) {
        this.layer = layer;
        this.position = position;
        this.n = n;
        this.q = q;
        this.qOff = qOff;
        this.out = out;
        this.outOff = outOff;
        try {
            workers.runRange(units, this);
        } finally {
            this.q = null;
            this.out = null;
        }
    }
}
