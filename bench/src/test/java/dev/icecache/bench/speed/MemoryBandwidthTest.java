package dev.icecache.bench.speed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MemoryBandwidthTest {

    @Test
    void shouldComputeTheTriadOnlyInsideItsRange() {
        float[] a = new float[5];
        float[] b = {1, 2, 3, 4, 5};
        float[] c = {1, 1, 2, 2, 3};
        MemoryBandwidth.triad(a, b, c, 2f, 1, 4);
        assertEquals(0f, a[0]);
        assertEquals(4f, a[1]);
        assertEquals(7f, a[2]);
        assertEquals(8f, a[3]);
        assertEquals(0f, a[4]);
    }

    @Test
    void shouldReturnAPositiveFiniteBandwidth() throws Exception {
        double bytesPerSecond = MemoryBandwidth.triad(2, 1 << 16, 2);
        assertTrue(bytesPerSecond > 0 && Double.isFinite(bytesPerSecond), "bandwidth " + bytesPerSecond);
    }

    @Test
    void shouldRejectBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> MemoryBandwidth.triad(0, 100, 1));
        assertThrows(IllegalArgumentException.class, () -> MemoryBandwidth.triad(4, 2, 1));
        assertThrows(IllegalArgumentException.class, () -> MemoryBandwidth.triad(1, 100, 0));
    }
}
