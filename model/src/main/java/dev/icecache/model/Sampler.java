package dev.icecache.model;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from logits: greedy (argmax) when temperature is 0, else sampling from
 * softmax(logits / temperature), restricted to the smallest set of most likely tokens whose
 * probability reaches {@code topP} (nucleus sampling) when 0 &lt; topP &lt; 1. Seeded, so the same
 * seed and logits give the same tokens. Not thread-safe (it owns scratch buffers).
 */
public final class Sampler {

    private final float temperature;
    private final float topP;
    private final SplittableRandom random;
    private float[] probs = new float[0];
    private long[] candidates = new long[0]; // (probability bits << 32) | token, for sorting without boxing

    /**
     * @param temperature 0 for greedy, else &gt; 0
     * @param topP nucleus mass in (0, 1]; 1 samples from the whole distribution
     * @param seed random seed
     */
    public Sampler(float temperature, float topP, long seed) {
        if (!(temperature >= 0f) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature=" + temperature + " must be a finite number >= 0 (0 = greedy)");
        }
        if (!(topP > 0f && topP <= 1f)) {
            throw new IllegalArgumentException("topP=" + topP + " must be within (0, 1]");
        }
        this.temperature = temperature;
        this.topP = topP;
        this.random = new SplittableRandom(seed);
    }

    /** The next token; {@code logits} is not modified. */
    public int sample(float[] logits) {
        if (temperature == 0f) {
            return argmax(logits);
        }
        int n = logits.length;
        if (probs.length < n) {
            probs = new float[n];
            candidates = new long[n];
        }
        float max = logits[argmax(logits)];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float p = (float) Math.exp((logits[i] - max) / temperature);
            probs[i] = p;
            sum += p;
        }
        double r = random.nextDouble() * sum;
        if (topP >= 1f) {
            double acc = 0;
            for (int i = 0; i < n; i++) {
                acc += probs[i];
                if (r < acc) {
                    return i;
                }
            }
            return n - 1;
        }
        return sampleTopP(n, sum, r / sum);
    }

    private int sampleTopP(int n, double sum, double u) {
        // tokens below (1 - topP) / (n - 1) of the mass can never be in the nucleus (llama2.c's cutoff)
        double cutoff = (1.0 - topP) / (n - 1) * sum;
        int m = 0;
        for (int i = 0; i < n; i++) {
            if (probs[i] >= cutoff) {
                candidates[m++] = ((long) Float.floatToIntBits(probs[i]) << 32) | i;
            }
        }
        Arrays.sort(candidates, 0, m); // ascending probability: the nucleus is at the end
        double mass = 0;
        int first = m - 1;
        for (int j = m - 1; j >= 0; j--) {
            mass += Float.intBitsToFloat((int) (candidates[j] >>> 32));
            first = j;
            if (mass >= topP * sum) {
                break;
            }
        }
        double r = u * mass;
        double acc = 0;
        for (int j = m - 1; j >= first; j--) {
            acc += Float.intBitsToFloat((int) (candidates[j] >>> 32));
            if (r < acc) {
                return (int) candidates[j];
            }
        }
        return (int) candidates[first];
    }

    /** Index of the largest logit (the first on ties). */
    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
