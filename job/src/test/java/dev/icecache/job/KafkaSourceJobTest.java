package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import dev.icecache.job.kafka.ChunkProducer;
import dev.icecache.operators.document.DocumentChunk;
import dev.icecache.operators.document.DocumentChunkJson;
import dev.icecache.operators.document.TextChunker;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The job fed from Kafka: an embedded KRaft broker (same version as the clients), documents
 * written by the {@code produce} code path (interleaved, keyed over several partitions), the
 * job bounded on a 2-slot MiniCluster with RocksDB and 200 ms checkpoints. Its JSON lines must
 * equal those of the same documents read by the file source, also when a failure is injected
 * mid-decode; malformed records become one rejected line each, naming partition and offset,
 * and a document whose last chunk never came is summarized from what arrived when the
 * bounded input ends, its final line saying so.
 */
class KafkaSourceJobTest {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2)
                    .build());

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path shared;

    private static KafkaClusterTestKit kafka;
    private static Path documents;
    private static Map<String, List<JobFixtures.Piece>> fromFiles;

    @BeforeAll
    static void startBrokerAndRunTheFileSource() throws Exception {
        JobFixtures.model();
        kafka = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder().setCombined(true)
                .setNumBrokerNodes(1).setNumControllerNodes(1).setBaseDirectory(shared.resolve("kafka")).build())
                // one broker: the internal topics (group offsets, transactions) cannot have 3 replicas
                .setConfigProp("offsets.topic.replication.factor", "1")
                .setConfigProp("offsets.topic.num.partitions", "1")
                .setConfigProp("transaction.state.log.replication.factor", "1")
                .setConfigProp("transaction.state.log.min.isr", "1")
                .setConfigProp("group.initial.rebalance.delay.ms", "0")
                .build();
        kafka.format();
        kafka.startup();
        kafka.waitForReadyBrokers();
        documents = JobFixtures.writeDocuments(shared.resolve("docs"));
        Path out = shared.resolve("out-files");
        new SummarizeJob(SummarizeJob.fileSource(documents, 256), SummarizeJob.fileSink(out),
                JobFixtures.config(shared.resolve("cp-files"))).execute();
        fromFiles = JobFixtures.readOutput(out);
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void shouldWriteTheFileSourcesLinesWhenReadFromKafkaThroughAFailure(@TempDir Path dir) throws Exception {
        String topic = "documents";
        StringWriter printed = new StringWriter();
        CommandLine cli = IceCacheCli.commandLine();
        cli.setOut(new PrintWriter(printed, true));
        assertEquals(0, cli.execute("produce", "--kafka-bootstrap", kafka.bootstrapServers(), "--kafka-topic", topic,
                "--chunk-chars", "256", documents.toString()));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                "created topic documents with 3 partitions\\R+produced 3 documents as (\\d+) records to topic documents")
                .matcher(printed.toString());
        assertTrue(m.find(), "produce printed: " + printed);
        long records = Long.parseLong(m.group(1));
        assertEquals(chunkCount(documents), records, "one record per chunk the file source would read");
        Map<Integer, Long> perPartition = recordsPerPartition(topic);
        assertEquals(records, perPartition.values().stream().mapToLong(Long::longValue).sum(),
                "every record is on the topic: " + perPartition);
        assertTrue(perPartition.values().stream().filter(n -> n > 0).count() >= 2,
                "the documents must spread over at least two partitions: " + perPartition);

        FailOnce.Trigger duringDecoding = new FailOnce.Trigger(dir.resolve("failed-in-decoding"),
                "\"doc\":\"long.txt\"", "\"seq\":3,");
        Path out = dir.resolve("out");
        new SummarizeJob(SummarizeJob.kafkaSource(kafka.bootstrapServers(), topic, "it-group", true),
                SummarizeJob.fileSink(out), JobFixtures.config(dir.resolve("cp")), new FailOnce(null, duringDecoding))
                .execute();
        assertTrue(duringDecoding.fired(), "the failure was not injected");
        assertEquals(fromFiles, JobFixtures.readOutput(out), "lines from Kafka differ from lines from files");
    }

    @Test
    void shouldRejectEachMalformedRecordOnItsOwnLineAndLeaveOtherDocumentsAlone(@TempDir Path dir) throws Exception {
        String topic = "mixed";
        assertTrue(ChunkProducer.createTopicIfMissing(kafka.bootstrapServers(), topic, 2), "topic created");
        RecordMetadata badJson;
        RecordMetadata noKey;
        String partialText = Files.readString(documents.resolve("short.txt"));
        String first = partialText.substring(0, 300);
        String second = partialText.substring(300, 700);
        try (Producer<byte[], byte[]> raw = ChunkProducer.idempotentProducer(kafka.bootstrapServers())) {
            badJson = raw.send(new ProducerRecord<>(topic, bytes("bad.txt"), bytes("{\"doc\":\"bad.txt\",\"seq\":0"))).get();
            noKey = raw.send(new ProducerRecord<>(topic, null, bytes("no key"))).get();
            // a document whose producer never wrote its last chunk
            raw.send(new ProducerRecord<>(topic, bytes("partial.txt"),
                    bytes(DocumentChunkJson.write(new DocumentChunk("partial.txt", 0, first, false))))).get();
            raw.send(new ProducerRecord<>(topic, bytes("partial.txt"),
                    bytes(DocumentChunkJson.write(new DocumentChunk("partial.txt", 1, second, false))))).get();
        }
        try (ChunkProducer producer = new ChunkProducer(
                ChunkProducer.idempotentProducer(kafka.bootstrapServers()), topic, 256)) {
            producer.produce(List.of(documents.resolve("short.txt")));
        }
        Path out = dir.resolve("out");
        new SummarizeJob(SummarizeJob.kafkaSource(kafka.bootstrapServers(), topic, "it-group", true),
                SummarizeJob.fileSink(out), JobFixtures.config(dir.resolve("cp"))).execute();

        Map<String, List<JobFixtures.Piece>> lines = JobFixtures.readOutput(out);
        String noKeyId = topic + "/" + noKey.partition() + "@" + noKey.offset();
        assertEquals(List.of("bad.txt", noKeyId, "partial.txt", "short.txt"), List.copyOf(lines.keySet()));
        assertEquals(fromFiles.get("short.txt"), lines.get("short.txt"), "the good document is unaffected");
        Map<String, String> errors = errors(out);
        assertEquals("malformed Kafka record " + topic + "/" + badJson.partition() + "@" + badJson.offset()
                + ": not a chunk object: the text ends where ',' or '}' was expected at offset 24;"
                + " no chunk of the document arrived", errors.get("bad.txt"));
        assertEquals("malformed Kafka record " + noKeyId + ": it has no key; the key must be the document id;"
                + " no chunk of the document arrived", errors.get(noKeyId));
        assertEquals("the input ended before its final chunk; summarized the 2 chunk(s) that arrived",
                errors.get("partial.txt"));
        Path arrived = Files.writeString(dir.resolve("partial.txt"), first + second);
        assertEquals(JobFixtures.engineAlone(arrived), JobFixtures.text(lines.get("partial.txt")),
                "the unfinished document is summarized from the chunks that arrived");
        assertEquals(3, errors.size(), "only the malformed records and the unfinished document have errors: " + errors);
        for (String id : List.of("bad.txt", noKeyId)) {
            assertEquals(1, lines.get(id).size(), "one line for " + id);
            assertTrue(lines.get(id).get(0).last() && lines.get(id).get(0).text().isEmpty(), "rejected: " + id);
        }
    }

    private static long chunkCount(Path dir) throws Exception {
        long n = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                TextChunker chunker = new TextChunker(new StringReader(Files.readString(f)), "x", 256);
                while (chunker.next() != null) {
                    n++;
                }
            }
        }
        return n;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static Map<Integer, Long> recordsPerPartition(String topic) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
            TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            d.partitions().forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
            Map<Integer, Long> counts = new HashMap<>();
            admin.listOffsets(latest).all().get().forEach((tp, info) -> counts.put(tp.partition(), info.offset()));
            return counts;
        }
    }

    /** The error field of every line that has one, by document. */
    private static Map<String, String> errors(Path outputDir) throws Exception {
        Map<String, String> errors = new HashMap<>();
        List<Path> files;
        try (Stream<Path> walk = Files.walk(outputDir)) {
            files = new ArrayList<>(walk.filter(Files::isRegularFile)
                    .filter(p -> !p.getFileName().toString().startsWith(".")).toList());
        }
        for (Path f : files) {
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                JsonNode n = JSON.readTree(line);
                if (n.has("error")) {
                    errors.put(n.get("doc").asText(), n.get("error").asText());
                }
            }
        }
        return errors;
    }
}
