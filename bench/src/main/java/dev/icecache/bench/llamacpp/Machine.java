package dev.icecache.bench.llamacpp;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the benchmark ran on, for the report. */
public final class Machine {

    private Machine() {
    }

    /** The CPU model name from /proc/cpuinfo, or os.arch when it cannot be read. */
    public static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            return System.getProperty("os.arch") + " (cpuinfo unreadable: " + e.getMessage() + ")";
        }
        return System.getProperty("os.arch");
    }

    /** The 1, 5 and 15 minute load averages from /proc/loadavg, or "unknown" when it cannot be read. */
    public static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f.length >= 3 ? f[0] + " " + f[1] + " " + f[2] : "unknown";
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }
}
