package dev.icecache.job.resume;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;

import dev.icecache.job.docs.ConfigurationReference;
import dev.icecache.operators.config.IceCacheOptions;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;

/**
 * What a summarize run's state depends on, kept beside its checkpoints so that {@code --resume}
 * refuses a checkpoint of another model, source or settings with one line instead of a restore
 * that fails later or writes other text. Holds the value of every {@code icecache.*} option
 * (defaults resolved) except those that change neither state nor output, the model file's name
 * and size, and the document source.
 *
 * @param values key to value, sorted by key
 */
public record RunSettings(Map<String, String> values) {

    /** File name beside a run's checkpoints ({@code <checkpoint-dir>/<job-id>/}) and in its savepoints. */
    public static final String FILE = "icecache-run.properties";

    /** Options that change neither the state nor the output: a resumed run may change them. */
    private static final Set<String> FREE = Set.of(IceCacheOptions.MODEL_PATH.key(),
            IceCacheOptions.GPU_ENABLED.key(), IceCacheOptions.WORKING_SET_DOCUMENTS.key());

    public RunSettings {
        values = Map.copyOf(new TreeMap<>(values));
    }

    /**
     * The settings of a run.
     *
     * @param config the job configuration (the {@code icecache.*} options)
     * @param model the model file
     * @param source the documents' source, e.g. the input directory or the Kafka topic
     */
    public static RunSettings of(Configuration config, Path model, String source) {
        Map<String, String> v = new TreeMap<>();
        for (ConfigOption<?> option : ConfigurationReference.options()) {
            if (!FREE.contains(option.key())) {
                Object value = config.get(option);
                v.put(option.key(), value == null ? "" : value.toString());
            }
        }
        v.put("model", model.getFileName() + " (" + size(model) + " bytes)");
        v.put("source", source);
        return new RunSettings(v);
    }

    /** Writes these settings to {@code dir}/{@value #FILE}, creating {@code dir}. */
    public void writeTo(Path dir) throws IOException {
        Files.createDirectories(dir);
        Properties p = new Properties();
        p.putAll(values);
        try (Writer w = Files.newBufferedWriter(dir.resolve(FILE), StandardCharsets.UTF_8)) {
            p.store(w, "settings of an icecache summarize run; --resume compares them");
        }
    }

    /** The settings kept with {@code point}: in a savepoint, or beside a checkpoint; empty when none were kept. */
    public static Optional<RunSettings> keptWith(ResumePoint point) throws IOException {
        for (Path dir : new Path[] {point.dir(), point.dir().getParent()}) {
            Path file = dir == null ? null : dir.resolve(FILE);
            if (file != null && Files.isRegularFile(file)) {
                Properties p = new Properties();
                try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                    p.load(r);
                }
                Map<String, String> v = new TreeMap<>();
                p.stringPropertyNames().forEach(k -> v.put(k, p.getProperty(k)));
                return Optional.of(new RunSettings(v));
            }
        }
        return Optional.empty();
    }

    /**
     * Fails with one line naming the first setting in which this run differs from the run that
     * wrote {@code point}.
     */
    public void requireSameAs(RunSettings kept, ResumePoint point) {
        for (String key : new TreeMap<>(kept.values).keySet()) {
            String then = kept.values.get(key);
            String now = values.getOrDefault(key, "");
            if (!then.equals(now)) {
                throw new IllegalArgumentException("--resume " + point.dir() + " was written by a run with " + key
                        + "=" + quote(then) + ", this run has " + quote(now) + "; resume with the first run's"
                        + " options, or run without --resume to start over");
            }
        }
    }

    private static String quote(String v) {
        return v.isEmpty() || v.contains(" ") || v.contains("\n") ? "'" + v.replace("\n", "\\n") + "'" : v;
    }

    private static long size(Path model) {
        try {
            return Files.size(model);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the size of " + model + ": " + e.getMessage(), e);
        }
    }
}
