package dev.icecache.bench.plot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/**
 * What a benchmark ran on and when, for the header of its BENCHMARKS.md section.
 *
 * @param cpu CPU model name
 * @param cores processors available to the JVM
 * @param maxHeapBytes the JVM's maximum heap
 * @param loadAverage the 1/5/15-minute load averages when read ("?" where unreadable)
 * @param date ISO date and time
 */
public record RunInfo(String cpu, int cores, long maxHeapBytes, String loadAverage, String date) {

    /** The current machine and time. */
    public static RunInfo now() {
        return new RunInfo(cpuModel(), Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory(),
                currentLoadAverage(), ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
    }

    /** The three load averages from /proc/loadavg, or "?" where it cannot be read (not Linux). */
    public static String currentLoadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + ", " + f[1] + ", " + f[2];
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            return System.getProperty("os.arch");
        }
        return System.getProperty("os.arch");
    }

    /** Markdown bullet lines: machine, heap, load, date. */
    public String markdown() {
        return "- machine: " + cpu + ", " + cores + " cores available to the JVM, max heap "
                + (maxHeapBytes >> 20) + " MiB\n- load average at the start: " + loadAverage + "\n- date: " + date + "\n";
    }
}
