package dev.icecache.bench.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SamplesTest {

    @Test
    void shouldTakeTheMiddleValueWhenCountIsOdd() {
        assertEquals(3.0, Samples.median(new double[] {9, 1, 3, 7, 2}));
    }

    @Test
    void shouldAverageTheMiddleTwoWhenCountIsEven() {
        assertEquals(4.5, Samples.median(new double[] {8, 1, 5, 4}));
    }

    @Test
    void shouldUseOnlyTheFirstNValues() {
        assertEquals(2.0, Samples.median(new long[] {3, 1, 2, 100, 100}, 3));
    }

    @Test
    void shouldLeaveTheInputUnsorted() {
        double[] v = {3, 1, 2};
        Samples.median(v);
        assertEquals(3.0, v[0]);
    }

    @Test
    void shouldRejectAnEmptyOrOversizedCount() {
        assertThrows(IllegalArgumentException.class, () -> Samples.median(new double[0]));
        assertThrows(IllegalArgumentException.class, () -> Samples.median(new long[] {1}, 2));
    }
}
