package dev.icecache.bench.speed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class LinearFitTest {

    @Test
    void shouldPassThroughPointsOnALine() {
        // y = 50 + 0.002 x exactly
        LinearFit fit = LinearFit.of(new double[] {1024, 4096, 16384}, new double[] {52.048, 58.192, 82.768});
        assertEquals(50, fit.intercept(), 1e-9);
        assertEquals(0.002, fit.slope(), 1e-12);
        assertEquals(181.072, fit.at(65536), 1e-9);
    }

    @Test
    void shouldMinimiseSquaredErrorForScatteredPoints() {
        // points (0,1) (1,3) (2,2): mean x 1, mean y 2, Sxy = (-1)(-1) + 0 + (1)(0) = 1, Sxx = 2
        LinearFit fit = LinearFit.of(new double[] {0, 1, 2}, new double[] {1, 3, 2});
        assertEquals(0.5, fit.slope(), 1e-12);
        assertEquals(1.5, fit.intercept(), 1e-12);
    }

    @Test
    void shouldRefuseFewerThanTwoDistinctContexts() {
        assertThrows(IllegalArgumentException.class, () -> LinearFit.of(new double[] {1024}, new double[] {50}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LinearFit.of(new double[] {1024, 1024}, new double[] {50, 51}));
        assertEquals("a line fit needs at least 2 distinct x values; all are 1024.0", e.getMessage());
    }
}
