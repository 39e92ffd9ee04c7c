package dev.icecache.bench.memory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Memory of this process as the kernel and the JVM see it. */
public final class ProcessMemory {

    private ProcessMemory() {
    }

    /**
     * Resident set size in bytes from {@code /proc/self/status} ({@code VmRSS}), or -1 where
     * that file does not exist (not Linux).
     */
    public static long rssBytes() {
        try {
            return vmRss(Files.readString(Path.of("/proc/self/status")));
        } catch (IOException e) {
            return -1;
        }
    }

    /**
     * The {@code VmRSS} line of a {@code /proc/<pid>/status} text in bytes.
     *
     * @throws IllegalArgumentException when the text has no well-formed VmRSS line in kB
     */
    static long vmRss(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("VmRSS:")) {
                String[] f = line.substring(6).trim().split("\\s+");
                if (f.length == 2 && f[1].equals("kB")) {
                    try {
                        return Math.multiplyExact(Long.parseLong(f[0]), 1024L);
                    } catch (NumberFormatException | ArithmeticException e) {
                        throw new IllegalArgumentException("VmRSS value '" + f[0] + "' is not a kB count", e);
                    }
                }
                throw new IllegalArgumentException("VmRSS line '" + line + "' is not '<number> kB'");
            }
        }
        throw new IllegalArgumentException("no VmRSS line in the status text; is this /proc/<pid>/status?");
    }

    /** Heap bytes in use after a full collection (live objects, approximately). */
    public static long liveHeapBytes() {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 2; i++) {
            System.gc();
        }
        return rt.totalMemory() - rt.freeMemory();
    }
}
