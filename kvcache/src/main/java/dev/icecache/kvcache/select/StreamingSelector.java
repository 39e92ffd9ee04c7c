package dev.icecache.kvcache.select;

/**
 * StreamingLLM: the sink and the most recent tokens. The budget's retrieved pages extend the
 * recent window backwards: the last {@code maxPages} pages that left the window, in position order.
 */
public final class StreamingSelector extends PositionalSelector {

    /** A selector over the streams of {@code spec}. */
    public StreamingSelector(SelectorSpec spec) {
        super(spec, false, false);
    }

    @Override
    public int select(int layer, int kvHead, int position, float[] q, int qOff, int queryHeads, int maxPages,
                      int[] out) {
        int count = pageCount[spec.stream(layer, kvHead)];
        int n = Math.min(maxPages, count);
        for (int i = 0; i < n; i++) {
            out[i] = count - n + i;
        }
        return n;
    }
}
