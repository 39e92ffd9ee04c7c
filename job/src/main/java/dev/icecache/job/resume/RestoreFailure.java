package dev.icecache.job.resume;

import java.util.Locale;
import java.util.Optional;

/**
 * One line for a failed restore that reaches the command line (a run started with
 * {@code --resume}, or {@code flink run -s}), instead of Flink's exception chain.
 */
public final class RestoreFailure {

    private RestoreFailure() {
    }

    /**
     * The line for {@code failure} when it is a restore failure Flink reports, else empty.
     *
     * @param failure what the job's execution threw
     * @param recoveryPath the checkpoint or savepoint the run restored, or null
     */
    public static Optional<String> explain(Throwable failure, String recoveryPath) {
        if (recoveryPath == null) {
            return Optional.empty();
        }
        for (Throwable c = failure; c != null; c = c.getCause()) {
            String m = c.getMessage() == null ? "" : c.getMessage();
            String lower = m.toLowerCase(Locale.ROOT);
            if (lower.contains("cannot map checkpoint/savepoint state")) {
                return Optional.of("cannot resume from " + recoveryPath + ": it holds state of an operator this job"
                        + " does not have (another job graph); give a checkpoint of this job, or start over without"
                        + " resuming");
            }
            if (lower.contains("incompatible") && lower.contains("serializer")
                    || c instanceof org.apache.flink.util.StateMigrationException) {
                return Optional.of("cannot resume from " + recoveryPath + ": its state was written by another version"
                        + " or settings of the job (" + firstLine(m) + "); resume with the first run's version and"
                        + " options, or start over without resuming");
            }
            if (lower.contains("_metadata") && (lower.contains("not found") || lower.contains("cannot find")
                    || lower.contains("no such file"))) {
                return Optional.of("cannot resume from " + recoveryPath + ": it has no complete _metadata (an"
                        + " unfinished checkpoint); give a complete one, or start over without resuming");
            }
        }
        return Optional.empty();
    }

    private static String firstLine(String m) {
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
