package dev.icecache.job;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

import dev.icecache.job.kafka.ChunkRecordDeserializer;
import dev.icecache.operators.config.DecoderSettings;
import dev.icecache.operators.decode.DecoderOperator;
import dev.icecache.operators.decode.IceCacheDecoder;
import dev.icecache.operators.document.DocumentChunk;
import dev.icecache.operators.document.DocumentFileFormat;
import dev.icecache.operators.output.SummaryPiece;
import dev.icecache.operators.tokenize.ChunkTokenizer;
import dev.icecache.operators.tokenize.DocumentEnd;
import dev.icecache.operators.tokenize.TokenChunk;
import dev.icecache.operators.tokenize.TokenizerOperator;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.serialization.SimpleStringEncoder;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.OperatorIDPair;
import org.apache.flink.runtime.jobgraph.JobVertex;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.functions.sink.filesystem.OutputFileConfig;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.BasePathBucketAssigner;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.OnCheckpointRollingPolicy;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/**
 * The summarization job: documents → chunks → tokens (keyed) → IceCache decoder (keyed) →
 * JSON lines. The source and sink are parameters so tests can plug in their own;
 * {@link #fileSource}, {@link #kafkaSource} and {@link #fileSink} are the production ends.
 *
 * <pre>
 *   documents ─► tokenize (keyBy doc) ─► icecache-decoder (keyBy doc) ─► document-end ─► to-json ─► sink
 *                   └── side output: one DocumentEnd per document (keyBy doc) ──┘
 * </pre>
 *
 * The document-end step ({@link DocumentEndJoin}) puts the tokenizer's note (a document ended
 * by the idle timeout, by a malformed record, or by the end of a bounded input before its last
 * chunk) on the document's final line.
 *
 * Every operator has a stable {@code uid}, so savepoints survive changes to the job graph.
 * The environment comes from {@link StreamExecutionEnvironment#getExecutionEnvironment(Configuration)}:
 * an embedded mini-cluster under {@code java}/{@code bin/icecache}, the cluster under {@code flink run}.
 */
public final class SummarizeJob {

    /** Stable operator ids (savepoint compatibility): never change them. */
    static final String SOURCE_UID = "icecache-documents";
    static final String TOKENIZE_UID = "icecache-tokenize";
    public static final String DECODER_UID = "icecache-decoder";
    static final String END_UID = "icecache-document-end";
    static final String JSON_UID = "icecache-to-json";
    static final String SINK_UID = "icecache-sink";

    private final Source<DocumentChunk, ?, ?> source;
    private final Sink<String> sink;
    private final MapFunction<String, String> beforeSink;
    private final Configuration config;
    private final DecoderSettings settings;

    /**
     * @param source documents as chunks, in order per document
     * @param sink receives one JSON line per text piece
     * @param config Flink settings (state backend, checkpoints, parallelism) and the
     *               {@code icecache.*} options
     * @throws IllegalArgumentException naming the first invalid {@code icecache.*} option
     */
    public SummarizeJob(Source<DocumentChunk, ?, ?> source, Sink<String> sink, Configuration config) {
        this(source, sink, config, null);
    }

    /** For tests: {@code beforeSink} (e.g. a failure injector) runs on each line before the sink. */
    SummarizeJob(Source<DocumentChunk, ?, ?> source, Sink<String> sink, Configuration config,
                 MapFunction<String, String> beforeSink) {
        this.beforeSink = beforeSink;
        this.source = source;
        this.sink = sink;
        this.config = new Configuration(config);
        this.config.set(PipelineOptions.GENERIC_TYPES, false); // a Kryo fallback must fail, not slow down
        this.settings = DecoderSettings.from(this.config);
    }

    /** Runs the job to completion (bounded input) and returns its result. */
    public JobExecutionResult execute() throws Exception {
        return build().execute("icecache-summarize");
    }

    /** Submits the job and returns at once, for callers that stop it with a savepoint. */
    public JobClient executeAsync() throws Exception {
        return build().executeAsync("icecache-summarize");
    }

    /** The job's stream graph, for callers that submit it themselves ({@code resume.EmbeddedJob}). */
    public StreamGraph streamGraph() {
        StreamGraph graph = build().getStreamGraph();
        graph.setJobName("icecache-summarize");
        return graph;
    }

    /** The job's Flink and {@code icecache.*} settings (a copy). */
    public Configuration configuration() {
        return new Configuration(config);
    }

    /**
     * The operator ids of this job's graph (from the stable uids), the ids a checkpoint's state
     * is mapped by on restore.
     */
    public Set<OperatorID> operatorIds() {
        Set<OperatorID> ids = new HashSet<>();
        for (JobVertex vertex : build().getStreamGraph().getJobGraph().getVertices()) {
            for (OperatorIDPair pair : vertex.getOperatorIDs()) {
                ids.add(pair.getGeneratedOperatorID());
                pair.getUserDefinedOperatorID().ifPresent(ids::add);
            }
        }
        return ids;
    }

    /** The decoder's operator id, from {@link #DECODER_UID}. */
    public static OperatorID decoderOperatorId() {
        return OperatorIdentifier.forUid(DECODER_UID).getOperatorId();
    }

    private StreamExecutionEnvironment build() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(config);
        SingleOutputStreamOperator<TokenChunk> tokens = env
                .fromSource(source, WatermarkStrategy.noWatermarks(), "documents").uid(SOURCE_UID)
                .keyBy(DocumentChunk::docId, Types.STRING)
                .transform("tokenize", TypeInformation.of(TokenChunk.class),
                        new TokenizerOperator(new ChunkTokenizer(settings)))
                .uid(TOKENIZE_UID);
        DataStream<SummaryPiece> pieces = tokens.keyBy(TokenChunk::docId, Types.STRING)
                .transform("icecache-decoder", TypeInformation.of(SummaryPiece.class),
                        new DecoderOperator(new IceCacheDecoder(settings)))
                .uid(DECODER_UID);
        DataStream<String> lines = pieces.connect(tokens.getSideOutput(ChunkTokenizer.DOCUMENT_ENDS))
                .keyBy(SummaryPiece::docId, DocumentEnd::docId, Types.STRING)
                .process(new DocumentEndJoin(), TypeInformation.of(SummaryPiece.class))
                .name("document-end").uid(END_UID)
                .map(SummaryPiece::toJsonLine, Types.STRING).name("to-json").uid(JSON_UID);
        if (beforeSink != null) {
            lines = lines.map(beforeSink, Types.STRING).name("test-hook").uid("icecache-test-hook");
        }
        lines.sinkTo(sink).name("sink").uid(SINK_UID);
        return env;
    }

    /** Reads every file under {@code input} (or the one file) as a document, then ends; id = file name. */
    public static FileSource<DocumentChunk> fileSource(Path input, int chunkChars) {
        return fileSource(input, chunkChars, null);
    }

    /**
     * Like {@link #fileSource(Path, int)}, but with {@code watchInterval} non-null the source never
     * ends: it looks for new files under {@code input} at that interval (a streaming job).
     */
    public static FileSource<DocumentChunk> fileSource(Path input, int chunkChars, Duration watchInterval) {
        var builder = FileSource.forBulkFileFormat(new DocumentFileFormat(chunkChars),
                new org.apache.flink.core.fs.Path(input.toAbsolutePath().toUri()));
        if (watchInterval != null) {
            builder.monitorContinuously(watchInterval);
        }
        return builder.build();
    }

    /**
     * Reads documents from a Kafka topic whose records are chunks: key = document id (UTF-8),
     * value = {@link dev.icecache.operators.document.DocumentChunkJson} (what {@code icecache
     * produce} writes). A record that cannot be read becomes a malformed chunk (never an
     * exception), reported in the output naming its topic, partition and offset.
     *
     * <p>Offsets are part of Flink's checkpoints (exactly-once with {@link #fileSink}) and are
     * also committed to the group on each checkpoint; a new run of the same group starts at
     * the group's committed offsets, or at the earliest ones when it has none.
     *
     * @param bootstrap Kafka bootstrap servers, {@code host:port[,host:port...]}
     * @param topic the topic to read
     * @param groupId the consumer group whose offsets are committed
     * @param bounded true: stop at the latest offsets seen when the job starts ("drain the
     *                topic"); false: read forever
     */
    public static KafkaSource<DocumentChunk> kafkaSource(String bootstrap, String topic, String groupId,
                                                         boolean bounded) {
        KafkaSourceBuilder<DocumentChunk> builder = KafkaSource.<DocumentChunk>builder()
                .setBootstrapServers(bootstrap)
                .setTopics(topic)
                .setGroupId(groupId)
                .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setDeserializer(new ChunkRecordDeserializer())
                .setProperty("commit.offsets.on.checkpoint", "true")
                // NOTE: only records of committed producer transactions; an idempotent producer's are all committed
                .setProperty("isolation.level", "read_committed");
        if (bounded) {
            builder.setBounded(OffsetsInitializer.latest());
        }
        return builder.build();
    }

    /**
     * Exactly-once JSON-lines files under {@code outputDir}: part files are finished at each
     * checkpoint (and at the end of a bounded job), named {@code part-*.jsonl}.
     */
    public static FileSink<String> fileSink(Path outputDir) {
        return FileSink.forRowFormat(new org.apache.flink.core.fs.Path(outputDir.toAbsolutePath().toUri()),
                        new SimpleStringEncoder<String>("UTF-8"))
                .withBucketAssigner(new BasePathBucketAssigner<>())
                .withRollingPolicy(OnCheckpointRollingPolicy.build())
                .withOutputFileConfig(OutputFileConfig.builder().withPartPrefix("part").withPartSuffix(".jsonl").build())
                .build();
    }
}
