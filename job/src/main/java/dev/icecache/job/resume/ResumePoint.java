package dev.icecache.job.resume;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where {@code summarize --resume} continues from: a complete retained checkpoint
 * ({@code <checkpoint-dir>/<job-id>/chk-N}) or a savepoint, each a directory holding
 * {@code _metadata}. A checkpoint that a kill interrupted has no {@code _metadata} and is never
 * chosen. Every problem is an {@link IllegalArgumentException} with one line saying what was
 * found and what to do.
 *
 * @param dir the directory holding {@code _metadata}
 */
public record ResumePoint(Path dir) {

    /** The file Flink writes last, when a checkpoint or savepoint is complete. */
    static final String METADATA = "_metadata";

    /** The pointer Flink's {@code execution.state-recovery.path} takes. */
    public String pointer() {
        return dir.toAbsolutePath().toUri().toString();
    }

    /**
     * Resolves {@code --resume [DIR]}.
     *
     * @param given the directory after {@code --resume}, or null for the newest under {@code checkpointDir}
     * @param checkpointDir {@code --checkpoint-dir}, or null when not given
     */
    public static ResumePoint find(Path given, Path checkpointDir) {
        if (given == null) {
            if (checkpointDir == null) {
                throw new IllegalArgumentException("--resume needs the run's --checkpoint-dir DIR, or a savepoint or"
                        + " chk-N directory after it (--resume DIR)");
            }
            return newestUnder(checkpointDir, "--checkpoint-dir " + checkpointDir);
        }
        if (Files.isRegularFile(given) && given.getFileName().toString().equals(METADATA)) {
            return new ResumePoint(given.toAbsolutePath().getParent());
        }
        if (!Files.isDirectory(given)) {
            throw new IllegalArgumentException("--resume " + given + " does not exist; give a savepoint or chk-N"
                    + " directory, or the run's --checkpoint-dir");
        }
        if (Files.isRegularFile(given.resolve(METADATA))) {
            return new ResumePoint(given.toAbsolutePath());
        }
        if (isCheckpointOrSavepoint(given)) {
            throw new IllegalArgumentException("--resume " + given + " is unfinished (no " + METADATA + ": the run"
                    + " stopped while writing it); give an earlier one, or the checkpoint directory above it to take"
                    + " the newest complete one");
        }
        return newestUnder(given, "--resume " + given);
    }

    /** The newest complete checkpoint or savepoint up to two levels under {@code root}. */
    private static ResumePoint newestUnder(Path root, String what) {
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException(what + " does not exist; nothing to resume (run without --resume to"
                    + " start)");
        }
        List<Path> complete = new ArrayList<>();
        int unfinished = 0;
        for (Path candidate : candidates(root)) {
            if (Files.isRegularFile(candidate.resolve(METADATA))) {
                complete.add(candidate);
            } else {
                unfinished++;
            }
        }
        if (complete.isEmpty()) {
            throw new IllegalArgumentException(what + " holds no complete checkpoint or savepoint"
                    + (unfinished == 0 ? "" : " (" + unfinished + " unfinished, without " + METADATA + ")")
                    + "; the run stopped before its first checkpoint: run without --resume to start over");
        }
        complete.sort(Comparator.comparing(ResumePoint::completedAt).thenComparing(ResumePoint::number));
        return new ResumePoint(complete.get(complete.size() - 1).toAbsolutePath());
    }

    /** {@code root} itself or its children and grandchildren named chk-N or savepoint-*. */
    private static List<Path> candidates(Path root) {
        try (Stream<Path> paths = Files.walk(root, 2)) {
            return paths.filter(Files::isDirectory).filter(ResumePoint::isCheckpointOrSavepoint).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root + ": " + e.getMessage(), e);
        }
    }

    private static boolean isCheckpointOrSavepoint(Path p) {
        String name = p.getFileName() == null ? "" : p.getFileName().toString();
        return name.matches("chk-\\d+") || name.startsWith("savepoint-");
    }

    private static FileTime completedAt(Path dir) {
        try {
            return Files.getLastModifiedTime(dir.resolve(METADATA));
        } catch (IOException e) {
            return FileTime.fromMillis(0);
        }
    }

    private static long number(Path dir) {
        String name = dir.getFileName().toString();
        return name.startsWith("chk-") ? Long.parseLong(name.substring(4)) : 0;
    }
}
