package dev.icecache.operators.decode;

import java.io.Serializable;

/**
 * How a document's generation runs once its prompt is in the cache.
 *
 * @param maxTokens the most tokens generated for the final summary of a document (&gt;= 0), and for
 *                  each segment or reduce summary of one read in segments
 * @param temperature 0 for greedy decoding, else the sampling temperature (&gt; 0)
 * @param topP nucleus mass in (0, 1] when sampling
 * @param seed base seed; each document and step derives its own, so a restored document
 *             samples exactly the tokens it would have sampled without the failure
 * @param sliceTokens tokens generated per decode slice (one timer callback, one piece)
 * @param rollingEvery 0 for no rolling summaries, else the document tokens between two of them
 *                     (&gt;= {@link #MIN_ROLLING_EVERY}); see {@link DocumentSession}
 * @param rollingMaxTokens the most tokens generated per rolling summary (&gt;= 1)
 * @param overflow what happens to a document that does not fit the context (see {@link SegmentPlan})
 * @param segmentTokens most document tokens per segment, 0 = derived from the context (see {@link SegmentPlan})
 */
public record GenerationSettings(int maxTokens, float temperature, float topP, long seed, int sliceTokens,
                                 int rollingEvery, int rollingMaxTokens, OverflowMode overflow, int segmentTokens)
        implements Serializable {

    /**
     * The smallest rolling interval: each rolling summary costs its instruction and up to
     * {@code rollingMaxTokens} positions of context plus a whole decode, so intervals shorter
     * than this would spend more context on notes than on the document itself.
     */
    public static final int MIN_ROLLING_EVERY = 64;
    /** Tokens per rolling summary when not set. */
    public static final int DEFAULT_ROLLING_MAX_TOKENS = 64;

    public GenerationSettings {
        if (maxTokens < 0) {
            throw new IllegalArgumentException("maxTokens=" + maxTokens + " must be >= 0");
        }
        if (!(temperature >= 0f) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature=" + temperature + " must be a finite number >= 0 (0 = greedy)");
        }
        if (!(topP > 0f && topP <= 1f)) {
            throw new IllegalArgumentException("topP=" + topP + " must be within (0, 1]");
        }
        if (sliceTokens < 1) {
            throw new IllegalArgumentException("sliceTokens=" + sliceTokens + " must be >= 1");
        }
        if (rollingEvery != 0 && rollingEvery < MIN_ROLLING_EVERY) {
            throw new IllegalArgumentException("rollingEvery=" + rollingEvery + " must be 0 (off) or >= "
                    + MIN_ROLLING_EVERY);
        }
        if (rollingMaxTokens < 1) {
            throw new IllegalArgumentException("rollingMaxTokens=" + rollingMaxTokens + " must be >= 1");
        }
        if (overflow == null) {
            throw new IllegalArgumentException("overflow mode must not be null");
        }
        if (segmentTokens < 0) {
            throw new IllegalArgumentException("segmentTokens=" + segmentTokens + " must be >= 0 (0 = derived)");
        }
    }

    /** Settings that read a document longer than the context in segments ({@link OverflowMode#REFINE}). */
    public GenerationSettings(int maxTokens, float temperature, float topP, long seed, int sliceTokens,
                              int rollingEvery, int rollingMaxTokens) {
        this(maxTokens, temperature, topP, seed, sliceTokens, rollingEvery, rollingMaxTokens, OverflowMode.REFINE, 0);
    }

    /** Settings without rolling summaries. */
    public GenerationSettings(int maxTokens, float temperature, float topP, long seed, int sliceTokens) {
        this(maxTokens, temperature, topP, seed, sliceTokens, 0, DEFAULT_ROLLING_MAX_TOKENS);
    }

    /** True when documents get rolling summaries while they stream in. */
    public boolean rolling() {
        return rollingEvery > 0;
    }

    /** These settings with rolling summaries every {@code every} document tokens of up to {@code max} tokens. */
    public GenerationSettings withRolling(int every, int max) {
        return new GenerationSettings(maxTokens, temperature, topP, seed, sliceTokens, every, max, overflow,
                segmentTokens);
    }

    /** These settings with another overflow mode and segment size (0 = derived). */
    public GenerationSettings withOverflow(OverflowMode mode, int tokens) {
        return new GenerationSettings(maxTokens, temperature, topP, seed, sliceTokens, rollingEvery, rollingMaxTokens,
                mode, tokens);
    }
}
