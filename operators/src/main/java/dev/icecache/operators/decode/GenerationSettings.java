package dev.icecache.operators.decode;

import java.io.Serializable;

/**
 * How a document's generation runs once its prompt is in the cache.
 *
 * @param maxTokens the most tokens generated per document (&gt;= 0)
 * @param temperature 0 for greedy decoding, else the sampling temperature (&gt; 0)
 * @param topP nucleus mass in (0, 1] when sampling
 * @param seed base seed; each document and step derives its own, so a restored document
 *             samples exactly the tokens it would have sampled without the failure
 * @param sliceTokens tokens generated per decode slice (one timer callback, one piece)
 */
public record GenerationSettings(int maxTokens, float temperature, float topP, long seed, int sliceTokens)
        implements Serializable {

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
    }
}
