package dev.icecache.bench.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ProcessMemoryTest {

    @Test
    void shouldReadVmRssInBytes() {
        String status = "Name:\tjava\nVmPeak:\t  900000 kB\nVmRSS:\t  123456 kB\nThreads:\t30\n";
        assertEquals(123456L * 1024, ProcessMemory.vmRss(status));
    }

    @Test
    void shouldRejectAStatusWithoutVmRss() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ProcessMemory.vmRss("Name:\tx\n"));
        assertTrue(e.getMessage().contains("no VmRSS line"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ProcessMemory.vmRss("VmRSS:\t12 MB\n"));
        assertThrows(IllegalArgumentException.class, () -> ProcessMemory.vmRss("VmRSS:\tlots kB\n"));
    }

    @Test
    void shouldReadThisProcessRssOnLinux() {
        long rss = ProcessMemory.rssBytes();
        if (Files.exists(Path.of("/proc/self/status"))) {
            assertTrue(rss > 1 << 20, "a running JVM holds more than 1 MiB: " + rss);
        } else {
            assertEquals(-1, rss);
        }
    }
}
