package dev.icecache.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import dev.icecache.kvcache.policy.Policy;
import picocli.CommandLine.Option;

/**
 * The options {@code bench document} and {@code bench speed} share (policies, budget, threads,
 * seed, where results go), as a picocli mixin: one name, default and description for each.
 */
public final class SweepOptions {

    @Option(names = "--policies", split = ",", defaultValue = "FULL,QUEST,ICECACHE,ICECACHE_REUSE",
            description = "policies (default ${DEFAULT-VALUE})")
    Policy[] policies;

    @Option(names = "--budget", defaultValue = "256", description = "resident tokens per sparse stream (default ${DEFAULT-VALUE})")
    int budget;

    @Option(names = "--threads", description = "compute threads (default: available processors)")
    Integer threads;

    @Option(names = "--seed", defaultValue = "1",
            description = "seed of the caches and of the synthetic context (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", defaultValue = "bench/results", description = "folder for CSV and PNG (default ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--markdown", paramLabel = "FILE",
            description = "append the result section to FILE, e.g. BENCHMARKS.md (default: none, only the CSV)")
    Path markdown;

    /** The policies measured. */
    public Policy[] policies() {
        return policies;
    }

    /** Resident tokens per sparse stream. */
    public int budget() {
        return budget;
    }

    /** {@code --threads}, or the available processors when not given. */
    public int threadCount() {
        return threads == null ? Runtime.getRuntime().availableProcessors() : threads;
    }

    /** Seed of caches and synthetic rows. */
    public long seed() {
        return seed;
    }

    /** The folder for CSV and PNG files. */
    public Path out() {
        return out;
    }

    /** Appends {@code section} to {@code --markdown} when given. */
    public void appendMarkdown(String section) throws IOException {
        if (markdown != null) {
            Files.writeString(markdown, section, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
    }
}
