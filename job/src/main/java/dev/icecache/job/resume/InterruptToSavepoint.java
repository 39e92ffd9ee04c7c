package dev.icecache.job.resume;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.flink.core.execution.SavepointFormatType;

import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Ctrl-C (SIGINT) on an embedded run with a checkpoint directory: the first one takes a
 * checkpoint at once, then, where the input never ends, a savepoint under
 * {@code <checkpoint-dir>/savepoints}, and cancels the job (its checkpoints are retained on
 * cancellation); {@code --resume} continues from the savepoint, or from the checkpoint. A second
 * Ctrl-C quits at once.
 *
 * <p>The checkpoint is unaligned: its barrier overtakes the chunks buffered before the decoder,
 * so it completes after the chunk being prefilled or the slice being decoded. A savepoint is always
 * aligned: its barrier waits behind every buffered chunk (embedded runs keep few in flight with
 * buffer debloating), and once a bounded input's end has been read, it comes after that end,
 * which the decoder passes only when every pending generation is done. When the source reads its
 * end cannot be told from outside (it stays running until the next checkpoint completes), so a
 * bounded input (files, {@code --kafka-bounded}) stops at the checkpoint, and a savepoint is taken
 * only for an input that never ends; if it does not complete within the timeout the run stops at
 * the checkpoint. It is triggered, not a stop-with-savepoint, which would also wait for the
 * pending generations. Installed only while the job runs; where the JVM cannot take SIGINT
 * (ignored when it started) Ctrl-C keeps its default.
 */
public final class InterruptToSavepoint implements AutoCloseable {

    /** The sub-directory of {@code --checkpoint-dir} that savepoints go to. */
    public static final String SAVEPOINTS = "savepoints";

    private static final Signal INT = new Signal("INT");
    private static final long RETRY_NANOS = 200_000_000L;

    /**
     * Where a Ctrl-C stopped the run.
     *
     * @param dir the savepoint, or the last complete checkpoint when no savepoint completed in time;
     *            null when there was neither
     * @param savepoint true when {@code dir} is the savepoint taken on Ctrl-C
     * @param took from Ctrl-C to the savepoint's completion (or to giving up on it)
     */
    public record Stop(Path dir, boolean savepoint, Duration took) {
    }

    private final EmbeddedJob job;
    private final Path checkpointDir;
    private final Path jobCheckpoints;
    private final RunSettings settings;
    private final Duration savepointTimeout;
    private final boolean unboundedInput;
    private final PrintWriter err;
    private final AtomicInteger interrupts = new AtomicInteger();
    private final AtomicReference<Stop> stopped = new AtomicReference<>();
    private final SignalHandler previous;

    private InterruptToSavepoint(EmbeddedJob job, Path checkpointDir, RunSettings settings, Duration savepointTimeout,
                                 boolean unboundedInput, PrintWriter err, boolean takeSignal) {
        this.job = job;
        this.checkpointDir = checkpointDir.toAbsolutePath();
        this.jobCheckpoints = this.checkpointDir.resolve(job.id().toString());
        this.settings = settings;
        this.savepointTimeout = savepointTimeout;
        this.unboundedInput = unboundedInput;
        this.err = err;
        SignalHandler old = null;
        if (takeSignal) {
            try {
                old = Signal.handle(INT, signal -> interrupted());
            } catch (IllegalArgumentException e) {
                old = null; // SIGINT is not ours to take
            }
        }
        this.previous = old;
    }

    /**
     * Takes SIGINT until {@link #close()}.
     *
     * @param checkpointDir {@code --checkpoint-dir}: the job's checkpoints are under {@code <dir>/<job-id>},
     *                      savepoints go to {@code <dir>/}{@value #SAVEPOINTS}
     * @param settings the run's settings, written into the savepoint for {@code --resume} to compare
     * @param savepointTimeout how long the checkpoint and then the savepoint may each take
     * @param unboundedInput true when the input never ends (Kafka without {@code --kafka-bounded}): only
     *                       then is a savepoint taken
     */
    public static InterruptToSavepoint install(EmbeddedJob job, Path checkpointDir, RunSettings settings,
                                               Duration savepointTimeout, boolean unboundedInput, PrintWriter err) {
        return new InterruptToSavepoint(job, checkpointDir, settings, savepointTimeout, unboundedInput, err, true);
    }

    /** Without a signal handler: {@link #interrupted()} is what SIGINT would run (for tests). */
    public static InterruptToSavepoint withoutSignal(EmbeddedJob job, Path checkpointDir, RunSettings settings,
                                                     Duration savepointTimeout, boolean unboundedInput,
                                                     PrintWriter err) {
        return new InterruptToSavepoint(job, checkpointDir, settings, savepointTimeout, unboundedInput, err, false);
    }

    /** What SIGINT runs: the first stops the job at a checkpoint or savepoint (in the background), a second quits. */
    public void interrupted() {
        if (interrupts.incrementAndGet() > 1) {
            say("icecache: quit; --resume continues from the last complete checkpoint");
            Runtime.getRuntime().halt(130);
        }
        say("icecache: stopping: a checkpoint now" + (unboundedInput ? ", then a savepoint in "
                + checkpointDir.resolve(SAVEPOINTS) : "") + " (Ctrl-C again to quit now)");
        long start = System.nanoTime();
        FileTime at = FileTime.fromMillis(System.currentTimeMillis());
        Thread stopper = new Thread(() -> stop(start, at), "icecache-stop-on-interrupt");
        stopper.setDaemon(true);
        stopper.start();
    }

    private void stop(long start, FileTime interruptedAt) {
        Path checkpoint;
        try {
            checkpoint = checkpointNow(start, interruptedAt);
        } catch (Exception e) {
            if (!ended()) {
                stopAtLastCheckpoint(start, "no checkpoint (" + oneLine(e) + ")");
            }
            return;
        }
        Duration checkpointed = since(start);
        try {
            if (!unboundedInput) {
                stopAt(new Stop(checkpoint, false, checkpointed));
                return;
            }
            String pointer = job.client().triggerSavepoint(checkpointDir.resolve(SAVEPOINTS).toUri().toString(),
                    SavepointFormatType.NATIVE).get(timeoutMs(), TimeUnit.MILLISECONDS);
            Path savepoint = localPath(pointer);
            settings.writeTo(savepoint);
            stopAt(new Stop(savepoint, true, since(start)));
        } catch (TimeoutException e) {
            say(String.format(Locale.ROOT, "icecache: no savepoint in %.0f s (its aligned barrier waits behind the"
                    + " chunks buffered before the decoder); stopping at the checkpoint taken on Ctrl-C",
                    seconds(savepointTimeout)));
            stopAt(new Stop(checkpoint, false, checkpointed));
        } catch (Exception e) {
            if (!ended()) {
                say("icecache: the savepoint failed (" + oneLine(e) + "); stopping at the checkpoint taken on Ctrl-C");
                stopAt(new Stop(checkpoint, false, checkpointed));
            }
        }
    }

    /**
     * A checkpoint taken now (unaligned: it completes after the chunk or slice in progress). One
     * declined (tasks still starting, or a periodic checkpoint overtook it) is tried again until
     * the timeout, unless a periodic checkpoint completed after Ctrl-C meanwhile, which does as well.
     */
    private Path checkpointNow(long start, FileTime interruptedAt) throws Exception {
        long deadline = start + savepointTimeout.toNanos();
        while (true) {
            try {
                long id = job.checkpointNow().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                return jobCheckpoints.resolve("chk-" + id);
            } catch (ExecutionException e) {
                Optional<Path> periodic = completedSince(interruptedAt);
                if (periodic.isPresent()) {
                    return periodic.get();
                }
                if (System.nanoTime() + RETRY_NANOS > deadline || ended()) {
                    throw e;
                }
                Thread.sleep(RETRY_NANOS / 1_000_000);
            }
        }
    }

    /** The newest checkpoint of the job completed at or after {@code after}. */
    private Optional<Path> completedSince(FileTime after) {
        try {
            Path newest = ResumePoint.find(null, jobCheckpoints).dir();
            FileTime completed = Files.getLastModifiedTime(newest.resolve(ResumePoint.METADATA));
            return completed.compareTo(after) >= 0 ? Optional.of(newest) : Optional.empty();
        } catch (IllegalArgumentException | IOException | java.io.UncheckedIOException e) {
            return Optional.empty(); // none yet, or one deleted as a newer one completed: look again later
        }
    }

    /** Records where the run stops, then cancels the job (its checkpoints are retained on cancellation). */
    private void stopAt(Stop stop) {
        stopped.set(stop);
        try {
            job.client().cancel().get();
        } catch (Exception e) {
            if (!ended()) {
                say("icecache: could not stop the job (" + oneLine(e) + "); Ctrl-C again to quit");
            }
        }
    }

    private long timeoutMs() {
        return savepointTimeout.toMillis();
    }

    private static Duration since(long start) {
        return Duration.ofNanos(System.nanoTime() - start);
    }

    private void stopAtLastCheckpoint(long start, String why) {
        Optional<Path> last = lastCheckpoint();
        say("icecache: " + why + "; stopping at the last complete checkpoint"
                + (last.isPresent() ? "" : ": there is none yet, so there is nothing to resume"));
        stopAt(new Stop(last.orElse(null), false, since(start)));
    }

    private Optional<Path> lastCheckpoint() {
        try {
            return Optional.of(ResumePoint.find(null, jobCheckpoints).dir());
        } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
            return Optional.empty();
        }
    }

    private boolean ended() {
        try {
            return job.client().getJobStatus().get().isGloballyTerminalState();
        } catch (Exception e) {
            return true; // the cluster is gone with the job
        }
    }

    /** A savepoint pointer ({@code file:/...} or a plain path) as a local path. */
    static Path localPath(String pointer) {
        URI uri = new org.apache.flink.core.fs.Path(pointer).toUri();
        return uri.getScheme() == null ? Path.of(uri.getPath()) : Path.of(uri);
    }

    static double seconds(Duration d) {
        return d.toNanos() / 1e9;
    }

    private static String oneLine(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String m = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        return m.lines().findFirst().orElse(m);
    }

    private void say(String line) {
        err.println(line);
        err.flush();
    }

    /** Where a Ctrl-C stopped the run; empty when it ended otherwise (or the stop failed). */
    public Optional<Stop> stopped() {
        return Optional.ofNullable(stopped.get());
    }

    @Override
    public void close() {
        if (previous != null) {
            Signal.handle(INT, previous);
        }
    }
}
