package dev.icecache.job;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.state.CheckpointListener;

/**
 * Injects failures, each once (a marker file makes it once across restarts):
 * <ul>
 *   <li>a line {@link Trigger} throws when a line contains all its fragments and a checkpoint
 *       has completed (in this attempt, or before the {@link Quiet} failure), so the restart
 *       has state to restore;</li>
 *   <li>a {@link Quiet} trigger throws when the {@code n}-th checkpoint of an attempt completes
 *       while no line of its document has been seen yet: the document is still in prefill, and
 *       the checkpoints hold its partial prefill.</li>
 * </ul>
 */
final class FailOnce implements MapFunction<String, String>, CheckpointListener {

    private static final long serialVersionUID = 1L;

    /**
     * One failure: the marker file it creates, the fragments a line must contain and, when
     * {@code minSeq} &gt;= 0, the least {@code "seq"} the line must carry.
     */
    record Trigger(String marker, int minSeq, String... fragments) implements Serializable {
        Trigger(Path marker, String... fragments) {
            this(marker.toString(), -1, fragments);
        }

        /**
         * Fails on piece {@code seq} of document {@code doc}, or on its first later piece when no
         * checkpoint had completed yet as piece {@code seq} passed (a failure needs state to restore),
         * so a plan's fault fires however the job's pace falls against its checkpoints.
         */
        static Trigger fromPiece(Path marker, String doc, int seq) {
            return new Trigger(marker.toString(), seq, "\"doc\":\"" + doc + "\"");
        }

        boolean matches(String line) {
            for (String s : fragments) {
                if (!line.contains(s)) {
                    return false;
                }
            }
            return minSeq < 0 || seqOf(line) >= minSeq;
        }

        private static int seqOf(String line) {
            int at = line.indexOf("\"seq\":");
            if (at < 0) {
                return -1;
            }
            int from = at + 6;
            int to = from;
            while (to < line.length() && Character.isDigit(line.charAt(to))) {
                to++;
            }
            return to > from ? Integer.parseInt(line.substring(from, to)) : -1;
        }

        boolean fired() {
            return Files.exists(Path.of(marker));
        }
    }

    /** Fails at the {@code checkpoints}-th completed checkpoint if no line contained {@code docFragment}. */
    record Quiet(String marker, int checkpoints, String docFragment) implements Serializable {
        Quiet(Path marker, int checkpoints, String docFragment) {
            this(marker.toString(), checkpoints, docFragment);
        }

        boolean fired() {
            return Files.exists(Path.of(marker));
        }
    }

    private final Quiet quiet;
    private final Trigger[] triggers;
    private transient boolean checkpointed;
    private transient int completed;
    private transient boolean docSeen;

    FailOnce(Quiet quiet, Trigger... triggers) {
        this.quiet = quiet;
        this.triggers = triggers;
    }

    @Override
    public String map(String line) {
        if (quiet != null && line.contains(quiet.docFragment())) {
            docSeen = true;
        }
        if (!checkpointed && (quiet == null || !quiet.fired())) {
            return line; // no checkpoint to restore from yet
        }
        for (Trigger t : triggers) {
            if (t.matches(line)) {
                if (firstTime(t.marker())) {
                    throw new IllegalStateException("injected failure (" + t.marker() + ") at " + line);
                }
            }
        }
        return line;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        checkpointed = true;
        completed++;
        if (quiet != null && !docSeen && completed >= quiet.checkpoints() && firstTime(quiet.marker())) {
            throw new IllegalStateException("injected failure (" + quiet.marker() + ") at checkpoint " + checkpointId);
        }
    }

    private static boolean firstTime(String marker) {
        try {
            Files.createFile(Path.of(marker));
            return true;
        } catch (FileAlreadyExistsException alreadyFired) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create failure marker " + marker, e);
        }
    }
}
