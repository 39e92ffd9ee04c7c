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
        return statusField("VmRSS");
    }

    /** The anonymous part of the RSS ({@code RssAnon}: heap, direct buffers, native memory), or -1. */
    public static long rssAnonBytes() {
        return statusField("RssAnon");
    }

    /** The file-backed part of the RSS ({@code RssFile}: mapped files, code), or -1. */
    public static long rssFileBytes() {
        return statusField("RssFile");
    }

    private static long statusField(String name) {
        try {
            return field(Files.readString(Path.of("/proc/self/status")), name);
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
        return field(status, "VmRSS");
    }

    /** The kB line {@code name} of a {@code /proc/<pid>/status} text, in bytes. */
    static long field(String status, String name) {
        String prefix = name + ":";
        for (String line : status.split("\n")) {
            if (line.startsWith(prefix)) {
                String[] f = line.substring(prefix.length()).trim().split("\\s+");
                if (f.length == 2 && f[1].equals("kB")) {
                    try {
                        return Math.multiplyExact(Long.parseLong(f[0]), 1024L);
                    } catch (NumberFormatException | ArithmeticException e) {
                        throw new IllegalArgumentException(name + " value '" + f[0] + "' is not a kB count", e);
                    }
                }
                throw new IllegalArgumentException(name + " line '" + line + "' is not '<number> kB'");
            }
        }
        throw new IllegalArgumentException("no " + name + " line in the status text; is this /proc/<pid>/status?");
    }

    /** Bytes of the JVM's buffer pool {@code name} ("direct" or "mapped") in use, or 0 without one. */
    public static long bufferPoolBytes(String name) {
        for (java.lang.management.BufferPoolMXBean pool
                : java.lang.management.ManagementFactory.getPlatformMXBeans(java.lang.management.BufferPoolMXBean.class)) {
            if (pool.getName().equals(name)) {
                return pool.getMemoryUsed();
            }
        }
        return 0;
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
