package dev.icecache.job.progress;

import java.util.Properties;

import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;

/** Makes a {@link JobProgressReporter}; found by Flink through {@code META-INF/services}. */
public final class JobProgressReporterFactory implements MetricReporterFactory {

    @Override
    public MetricReporter createMetricReporter(Properties properties) {
        return new JobProgressReporter();
    }
}
