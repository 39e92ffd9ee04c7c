package dev.icecache.job.resume;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ExecutionException;

import dev.icecache.job.SummarizeJob;

import org.apache.flink.core.execution.JobClient;

/**
 * Runs a summarize job for the command line: with a checkpoint directory on an embedded
 * mini-cluster it keeps the run's {@link RunSettings} beside the job's checkpoints and stops at
 * the next checkpoint on Ctrl-C ({@link InterruptToCheckpoint}); a restore that Flink refuses
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
     * @param checkpointInterval the checkpoint interval, for the Ctrl-C message
     * @param settings the run's settings, kept beside its checkpoints
     * @param recoveryPath the checkpoint or savepoint restored, or null
     * @param err where the Ctrl-C lines go
     * @return 0, or {@value #EXIT_INTERRUPTED} when Ctrl-C stopped it at a checkpoint
     * @throws IllegalStateException one line when Flink refused to restore {@code recoveryPath}
     */
    public static int run(SummarizeJob job, boolean embedded, Path checkpointDir, String checkpointInterval,
                          RunSettings settings,
                          String recoveryPath, PrintWriter err) throws Exception {
        try {
            if (!embedded || checkpointDir == null) {
                job.execute();
                return 0;
            }
            JobClient client = job.executeAsync();
            Path jobCheckpoints = checkpointDir.resolve(client.getJobID().toString());
            settings.writeTo(jobCheckpoints);
            try (InterruptToCheckpoint interrupt = InterruptToCheckpoint.install(client, jobCheckpoints,
                    checkpointInterval, err)) {
                try {
                    client.getJobExecutionResult().get();
                } catch (ExecutionException e) {
                    if (interrupt.stoppedAt().isEmpty()) {
                        throw e;
                    }
                }
                Optional<Path> stopped = interrupt.stoppedAt();
                if (stopped.isEmpty()) {
                    return 0;
                }
                err.println("icecache: stopped at checkpoint " + stopped.get() + "; to continue, run the same command"
                        + " with --resume");
                err.flush();
                return EXIT_INTERRUPTED;
            }
        } catch (ExecutionException e) {
            throw restoreFailureOr(e.getCause() == null ? e : e.getCause(), recoveryPath);
        } catch (Exception e) {
            throw restoreFailureOr(e, recoveryPath);
        }
    }

    private static Exception restoreFailureOr(Throwable failure, String recoveryPath) {
        Optional<String> line = RestoreFailure.explain(failure, recoveryPath);
        if (line.isPresent()) {
            return new IllegalStateException(line.get());
        }
        return failure instanceof Exception e ? e : new RuntimeException(failure);
    }
}
