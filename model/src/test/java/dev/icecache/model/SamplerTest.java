package dev.icecache.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Greedy, temperature and nucleus sampling against counts computed from the distribution. */
class SamplerTest {

    @Test
    void shouldPickTheFirstLargestLogitWhenGreedy() {
        float[] logits = {0.5f, 3f, -1f, 3f};
        float[] copy = logits.clone();
        assertEquals(1, new Sampler(0f, 1f, 1).sample(logits));
        assertArrayEquals(copy, logits, "logits unchanged");
    }

    @Test
    void shouldRepeatTheSameTokensForTheSameSeed() {
        float[] logits = {1f, 2f, 0.5f, 1.5f, 0f};
        Sampler a = new Sampler(1f, 1f, 123);
        Sampler b = new Sampler(1f, 1f, 123);
        for (int i = 0; i < 100; i++) {
            assertEquals(a.sample(logits), b.sample(logits), "draw " + i);
        }
    }

    @Test
    void shouldSampleInProportionToSoftmax() {
        // probabilities exp(l)/sum: l = ln(1), ln(2), ln(3), ln(4) -> 0.1, 0.2, 0.3, 0.4
        float[] logits = {(float) Math.log(1), (float) Math.log(2), (float) Math.log(3), (float) Math.log(4)};
        Sampler s = new Sampler(1f, 1f, 7);
        int[] counts = new int[4];
        int draws = 40_000;
        for (int i = 0; i < draws; i++) {
            counts[s.sample(logits)]++;
        }
        for (int i = 0; i < 4; i++) {
            double p = (i + 1) / 10.0;
            double sd = Math.sqrt(draws * p * (1 - p));
            assertEquals(draws * p, counts[i], 5 * sd, "token " + i + " seed=7");
        }
    }

    @Test
    void shouldOnlySampleInsideTheNucleus() {
        // 0.4 + 0.3 = 0.7 >= topP 0.6: only tokens 3 and 2, in ratio 4:3
        float[] logits = {(float) Math.log(1), (float) Math.log(2), (float) Math.log(3), (float) Math.log(4)};
        Sampler s = new Sampler(1f, 0.6f, 11);
        int[] counts = new int[4];
        int draws = 14_000;
        for (int i = 0; i < draws; i++) {
            counts[s.sample(logits)]++;
        }
        assertEquals(0, counts[0] + counts[1], "tokens outside the nucleus were drawn, seed=11");
        double p3 = 4.0 / 7;
        assertEquals(draws * p3, counts[3], 5 * Math.sqrt(draws * p3 * (1 - p3)), "seed=11");
    }

    @Test
    void shouldRejectInvalidParameters() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Sampler(-1f, 1f, 0)).getMessage()
                .contains("temperature=-1.0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Sampler(1f, 0f, 0)).getMessage()
                .contains("topP=0.0 must be within (0, 1]"));
    }
}
