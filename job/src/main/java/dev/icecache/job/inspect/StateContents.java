package dev.icecache.job.inspect;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.accumulators.ListAccumulator;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.runtime.SavepointLoader;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

/**
 * The IceCache decoder's per-document state in a savepoint or retained checkpoint, read with
 * Flink's State Processor API in a local batch job.
 *
 * <p>The RocksDB backend restores both canonical savepoints and RocksDB's native checkpoints
 * (incremental ones included), and the HashMap backend's snapshots, so it reads whatever the
 * job wrote.
 *
 * @param dir the savepoint or checkpoint directory (the one holding {@code _metadata})
 * @param checkpointId the checkpoint id in the metadata
 * @param uid the decoder operator's uid
 * @param documents one entry per document in the state, by id
 */
public record StateContents(Path dir, long checkpointId, String uid, List<DocumentState> documents) {

    private static final String METADATA = "_metadata";

    /**
     * Reads the decoder state of operator {@code uid} under {@code dir}.
     *
     * @param dir a savepoint or {@code chk-N} directory, or its {@code _metadata} file
     * @throws IllegalArgumentException when {@code dir} is no checkpoint or has no state for {@code uid}
     */
    public static StateContents read(Path dir, String uid) throws Exception {
        Path root = checkpointDir(dir);
        String pointer = root.toAbsolutePath().toUri().toString();
        CheckpointMetadata metadata;
        try {
            metadata = SavepointLoader.loadSavepointMetadata(pointer);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(root.resolve(METADATA) + " is not Flink checkpoint metadata ("
                    + e.getMessage() + "); give a savepoint or retained checkpoint written by Flink 2.x");
        }
        requireOperator(metadata, uid, root);
        Configuration conf = new Configuration();
        conf.set(ExecutionOptions.RUNTIME_MODE, RuntimeExecutionMode.BATCH);
        // NOTE: the default scheduler: the adaptive batch one warns that it skips checkpointing
        conf.set(JobManagerOptions.SCHEDULER, JobManagerOptions.SchedulerType.Default);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        SavepointReader reader = SavepointReader.read(env, pointer, new EmbeddedRocksDBStateBackend());
        // NOTE: an accumulator, not executeAndCollect: its iterator asks the embedded cluster for the
        // job's status after the cluster has shut down, and warns with a stack trace that data may be lost
        reader.readKeyedState(OperatorIdentifier.forUid(uid), new DecoderStateReader(), Types.STRING,
                        TypeInformation.of(DocumentState.class))
                .map(new InAccumulator()).returns(TypeInformation.of(DocumentState.class))
                .sinkTo(new DiscardingSink<>());
        List<DocumentState> documents = new ArrayList<>(
                env.execute("icecache-inspect-state").<List<DocumentState>>getAccumulatorResult(InAccumulator.NAME));
        documents.sort(Comparator.comparing(DocumentState::docId));
        return new StateContents(root, metadata.getCheckpointId(), uid, List.copyOf(documents));
    }

    /** Adds every document's state to the job's {@value #NAME} accumulator. */
    private static final class InAccumulator extends RichMapFunction<DocumentState, DocumentState> {
        private static final long serialVersionUID = 1L;
        static final String NAME = "icecache-documents";
        private final ListAccumulator<DocumentState> states = new ListAccumulator<>();

        @Override
        public void open(OpenContext context) {
            getRuntimeContext().addAccumulator(NAME, states);
        }

        @Override
        public DocumentState map(DocumentState state) {
            states.add(state);
            return state;
        }
    }

    /** The directory holding {@code _metadata}, or a one-line error saying what to pass instead. */
    static Path checkpointDir(Path dir) {
        if (Files.isRegularFile(dir) && dir.getFileName().toString().equals(METADATA)) {
            return dir.toAbsolutePath().getParent();
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + " is not a directory; give a savepoint directory or a retained"
                    + " checkpoint's chk-N directory (each holds a _metadata file)");
        }
        if (Files.isRegularFile(dir.resolve(METADATA))) {
            return dir;
        }
        List<String> inside;
        try (Stream<Path> found = Files.find(dir, 3, (p, a) -> a.isRegularFile()
                && p.getFileName().toString().equals(METADATA))) {
            inside = found.map(p -> dir.relativize(p.getParent()).toString()).sorted().toList();
        } catch (IOException | UncheckedIOException unreadable) {
            inside = List.of(); // only a hint: an unreadable subdirectory must not hide the real error
        }
        String hint = inside.isEmpty() ? "" : "; it holds " + inside.size() + " (e.g. "
                + String.join(", ", inside.subList(Math.max(0, inside.size() - 3), inside.size()))
                + "): pass one of those";
        throw new IllegalArgumentException(dir + " is not a checkpoint or savepoint: it has no _metadata file" + hint);
    }

    private static void requireOperator(CheckpointMetadata metadata, String uid, Path root) {
        OperatorID id = OperatorIdentifier.forUid(uid).getOperatorId();
        for (OperatorState s : metadata.getOperatorStates()) {
            if (s.getOperatorID().equals(id)) {
                return;
            }
        }
        throw new IllegalArgumentException(root + " holds no state of operator uid '" + uid + "' ("
                + metadata.getOperatorStates().size() + " operators have state); pass --uid of the IceCache decoder");
    }

    /** The documents' figures added up, with {@link DocumentState#docId()} "total" and no phase. */
    public DocumentState total() {
        long[] levels = new long[TreeCells.MAX_LEVELS];
        long promptTokens = 0, pages = 0, pageBytes = 0, pageRows = 0, cells = 0, cellBytes = 0, trees = 0, nodes = 0;
        long position = 0, held = 0, generated = 0, pieces = 0, recorded = 0, header = 0, patches = 0, patchBytes = 0;
        for (DocumentState d : documents) {
            position += d.position();
            promptTokens += d.promptTokens();
            held += d.heldTokens();
            generated += d.generated();
            pieces += d.pieces();
            recorded += d.recordedPages();
            pages += d.pages();
            pageBytes += d.pageBytes();
            pageRows += d.pageRows();
            patches += d.patches();
            patchBytes += d.patchBytes();
            header += d.headerBytes();
            cells += d.cells();
            cellBytes += d.cellBytes();
            trees += d.trees();
            nodes += d.nodes();
            for (int l = 0; l < levels.length; l++) {
                levels[l] += d.nodesPerLevel()[l];
            }
        }
        return new DocumentState("total", "", position, promptTokens, held, generated, pieces, recorded, pages,
                pageBytes, pageRows, patches, patchBytes, header, cells, cellBytes, trees, nodes, levels, "");
    }
}
