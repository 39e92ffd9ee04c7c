package dev.icecache.job.resume;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ExecutionException;

import dev.icecache.job.SummarizeJob;

import org.apache.flink.core.execution.JobClient;

/**
 * Runs a summarize job for the command line: with a checkpoint directory on an embedded
 * mini-cluster it keeps the run's {@link RunSettings} beside the job's checkpoints and stops with
 * a savepoint on Ctrl-C ({@link InterruptToSavepoint}); a restore that Flink refuses
 * becomes one line.
 */
public final class SummarizeRun {

    /** Exit code of a run stopped by Ctrl-C (128 + SIGINT, as shells report it). */
    public static final int EXIT_INTERRUPTED = 130;

    private SummarizeRun() {
    }

    /**
     * @param job the job to run
     * @param embedded true on an embedded mini-cluster ({@code bin/icecache}), false under {@code flink run}
     * @param checkpointDir {@code --checkpoint-dir}, or null
     * @param savepointTimeout how long the checkpoint, then the savepoint, taken on Ctrl-C may each take
     * @param unboundedInput true when the input never ends: Ctrl-C then also takes a savepoint
     * @param settings the run's settings, kept beside its checkpoints
     * @param recoveryPath the checkpoint or savepoint restored, or null
     * @param err where the Ctrl-C lines go
     * @return 0, or {@value #EXIT_INTERRUPTED} when Ctrl-C stopped it
     * @throws IllegalStateException one line when Flink refused to restore {@code recoveryPath}
     */
    public static int run(SummarizeJob job, boolean embedded, Path checkpointDir, Duration savepointTimeout,
                          boolean unboundedInput, RunSettings settings,
                          String recoveryPath, PrintWriter err) throws Exception {
        try {
            if (!embedded || checkpointDir == null) {
                job.execute();
                return 0;
            }
            EmbeddedJob embeddedJob = EmbeddedJob.submit(job);
            JobClient client = embeddedJob.client();
            settings.writeTo(checkpointDir.resolve(client.getJobID().toString()));
            try (InterruptToSavepoint interrupt = InterruptToSavepoint.install(embeddedJob, checkpointDir, settings,
                    savepointTimeout, unboundedInput, err)) {
                try {
                    client.getJobExecutionResult().get();
                } catch (ExecutionException e) {
                    if (interrupt.stopped().isEmpty()) {
                        throw e;
                    }
                }
                Optional<InterruptToSavepoint.Stop> stop = interrupt.stopped();
                if (stop.isEmpty()) {
                    return 0;
                }
                err.println(stopLine(stop.get()));
                err.flush();
                return EXIT_INTERRUPTED;
            }
        } catch (ExecutionException e) {
            throw restoreFailureOr(e.getCause() == null ? e : e.getCause(), recoveryPath);
        } catch (Exception e) {
            throw restoreFailureOr(e, recoveryPath);
        }
    }

    /** The last line of a run stopped by Ctrl-C: where it stopped and how to continue. */
    static String stopLine(InterruptToSavepoint.Stop stop) {
        if (stop.dir() == null) {
            return "icecache: stopped before its first checkpoint; run the same command without --resume to start over";
        }
        return String.format(Locale.ROOT, "icecache: stopped at %s %s (%.1f s after Ctrl-C); to continue, run the same"
                        + " command with --resume %s", stop.savepoint() ? "savepoint" : "checkpoint", stop.dir(),
                InterruptToSavepoint.seconds(stop.took()), stop.dir());
    }

    private static Exception restoreFailureOr(Throwable failure, String recoveryPath) {
        Optional<String> line = RestoreFailure.explain(failure, recoveryPath);
        if (line.isPresent()) {
            return new IllegalStateException(line.get());
        }
        return failure instanceof Exception e ? e : new RuntimeException(failure);
    }
}
