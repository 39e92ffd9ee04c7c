package dev.icecache.kvcache.select;

/** Full attention: every page that left the window, in position order (the fidelity reference). */
public final class FullSelector extends PositionalSelector {

    /** A selector over the streams of {@code spec}. */
    public FullSelector(SelectorSpec spec) {
        super(spec, false, false);
    }

    @Override
    public int select(int layer, int kvHead, int position, float[] q, int qOff, int queryHeads, int maxPages,
                      int[] out) {
        int n = Math.min(maxPages, pageCount[spec.stream(layer, kvHead)]);
        for (int p = 0; p < n; p++) {
            out[p] = p;
        }
        return n;
    }
}
