package dev.icecache.job.resume;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.apache.flink.core.execution.JobClient;

import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Ctrl-C (SIGINT) on an embedded run with a checkpoint directory: the first one lets the next
 * periodic checkpoint complete, then cancels the job (its checkpoints are retained on
 * cancellation) so that {@code --resume} continues from it; a second one quits at once.
 *
 * <p>A checkpoint, not a savepoint: the job's checkpoints are unaligned and complete within an
 * interval, while a savepoint is always aligned and its barrier would wait behind every chunk
 * buffered before the decoder (the rest of a book's prefill), and a stop-with-savepoint whose
 * bounded source has finished waits for every document. Installed only while the job runs;
 * where the JVM cannot take SIGINT (ignored when it started) Ctrl-C keeps its default.
 */
public final class InterruptToCheckpoint implements AutoCloseable {

    private static final Signal INT = new Signal("INT");
    private static final long POLL_MS = 100;

    private final JobClient job;
    private final Path jobCheckpoints;
    private final String interval;
    private final PrintWriter err;
    private final AtomicInteger interrupts = new AtomicInteger();
    private final AtomicReference<Path> stoppedAt = new AtomicReference<>();
    private final SignalHandler previous;

    private InterruptToCheckpoint(JobClient job, Path jobCheckpoints, String interval, PrintWriter err) {
        this.job = job;
        this.jobCheckpoints = jobCheckpoints;
        this.interval = interval;
        this.err = err;
        SignalHandler old;
        try {
            old = Signal.handle(INT, this::interrupted);
        } catch (IllegalArgumentException e) {
            old = null; // SIGINT is not ours to take
        }
        this.previous = old;
    }

    /**
     * Takes SIGINT until {@link #close()}.
     *
     * @param jobCheckpoints where the job's checkpoints go ({@code <checkpoint-dir>/<job-id>})
     * @param interval the checkpoint interval, for the message
     */
    public static InterruptToCheckpoint install(JobClient job, Path jobCheckpoints, String interval, PrintWriter err) {
        return new InterruptToCheckpoint(job, jobCheckpoints, interval, err);
    }

    private void interrupted(Signal signal) {
        if (interrupts.incrementAndGet() > 1) {
            say("icecache: quit; --resume continues from the last complete checkpoint");
            Runtime.getRuntime().halt(130);
        }
        say("icecache: stopping at the next checkpoint (every " + interval + "; Ctrl-C again to quit now)");
        FileTime after = FileTime.fromMillis(System.currentTimeMillis());
        Thread stopper = new Thread(() -> stopAfterCheckpoint(after), "icecache-stop-on-interrupt");
        stopper.setDaemon(true);
        stopper.start();
    }

    private void stopAfterCheckpoint(FileTime after) {
        try {
            Optional<Path> checkpoint = completedSince(after);
            while (checkpoint.isEmpty()) {
                if (job.getJobStatus().get().isGloballyTerminalState()) {
                    return; // ended on its own
                }
                Thread.sleep(POLL_MS);
                checkpoint = completedSince(after);
            }
            stoppedAt.set(checkpoint.get());
            job.cancel().get();
        } catch (Exception e) {
            say("icecache: could not stop the job (" + e.getMessage() + "); Ctrl-C again to quit");
        }
    }

    /** The newest checkpoint of the job completed after {@code after}. */
    private Optional<Path> completedSince(FileTime after) {
        if (!Files.isDirectory(jobCheckpoints)) {
            return Optional.empty();
        }
        try (Stream<Path> dirs = Files.list(jobCheckpoints)) {
            return dirs.filter(d -> d.getFileName().toString().startsWith("chk-"))
                    .filter(d -> modified(d.resolve(ResumePoint.METADATA)).compareTo(after) >= 0)
                    .max((a, b) -> modified(a.resolve(ResumePoint.METADATA))
                            .compareTo(modified(b.resolve(ResumePoint.METADATA))));
        } catch (IOException | UncheckedIOException e) {
            return Optional.empty(); // a checkpoint was deleted while listed: look again
        }
    }

    private static FileTime modified(Path file) {
        try {
            return Files.getLastModifiedTime(file);
        } catch (IOException e) {
            return FileTime.fromMillis(0);
        }
    }

    private void say(String line) {
        err.println(line);
        err.flush();
    }

    /** The checkpoint the run was stopped at after a Ctrl-C; empty when it ended otherwise. */
    public Optional<Path> stoppedAt() {
        return Optional.ofNullable(stoppedAt.get());
    }

    @Override
    public void close() {
        if (previous != null) {
            Signal.handle(INT, previous);
        }
    }
}
