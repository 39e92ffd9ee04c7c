package dev.icecache.job.kafka;

import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

import dev.icecache.operators.document.DocumentChunk;
import dev.icecache.operators.document.DocumentChunkJson;
import dev.icecache.operators.document.TextChunker;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Writes documents to a Kafka topic as chunk records, the input of
 * {@link dev.icecache.job.SummarizeJob#kafkaSource}: each file is one document (id = file
 * name, as the file source does), cut by the job's own {@link TextChunker}, each chunk a
 * record with key = id and value = {@link DocumentChunkJson}. Keyed records of a document all
 * go to one partition, so they stay in order.
 *
 * <p>Documents are written interleaved, one chunk of each open document in turn (at most
 * {@link #OPEN_DOCUMENTS} files open at once), as many writers would; the producer is
 * idempotent ({@code acks=all}), so a retry never duplicates or reorders a record.
 */
public final class ChunkProducer implements AutoCloseable {

    /** How long topic listing and creation may take. */
    static final int ADMIN_TIMEOUT_SECONDS = 30;
    /** The most files read at the same time. */
    static final int OPEN_DOCUMENTS = 16;

    /** What was written. */
    public record Written(int documents, long records) {
    }

    /** Owned: closed by {@link #close}. */
    private final Producer<byte[], byte[]> producer;
    private final String topic;
    private final int chunkChars;
    /** The first asynchronous send failure, reported after the flush. */
    private volatile Exception sendFailure;

    /**
     * @param producer where records go (owned from now on)
     * @param topic the topic
     * @param chunkChars most characters per chunk (&gt;= {@link TextChunker#MIN_CHUNK_CHARS})
     */
    public ChunkProducer(Producer<byte[], byte[]> producer, String topic, int chunkChars) {
        if (chunkChars < TextChunker.MIN_CHUNK_CHARS) {
            throw new IllegalArgumentException("chunkChars=" + chunkChars + " is below " + TextChunker.MIN_CHUNK_CHARS
                    + "; use a larger chunk size");
        }
        this.producer = producer;
        this.topic = topic;
        this.chunkChars = chunkChars;
    }

    /** An idempotent byte-array producer for {@code bootstrap}. */
    public static Producer<byte[], byte[]> idempotentProducer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "icecache-produce");
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /**
     * Creates {@code topic} with {@code partitions} partitions (the broker's replication
     * factor) unless it exists.
     *
     * @return true when it was created
     * @throws IOException when the broker cannot be reached within {@link #ADMIN_TIMEOUT_SECONDS}
     *                     or refuses
     */
    public static boolean createTopicIfMissing(String bootstrap, String topic, int partitions) throws IOException {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            Set<String> existing = admin.listTopics().names().get(ADMIN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (existing.contains(topic)) {
                return false;
            }
            admin.createTopics(List.of(new NewTopic(topic, Optional.of(partitions), Optional.empty()))).all()
                    .get(ADMIN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            return true;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TopicExistsException) {
                return false; // created meanwhile by someone else
            }
            throw new IOException("Kafka at " + bootstrap + " refused to list or create topic " + topic + ": "
                    + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("Kafka at " + bootstrap + " did not answer within " + ADMIN_TIMEOUT_SECONDS
                    + " s; is the broker running and the address right?", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while creating topic " + topic, e);
        }
    }

    /**
     * Writes every document under {@code inputs} (files, or directories whose regular files,
     * at any depth, are documents), then flushes, so every record is acknowledged on return.
     *
     * @throws IOException when an input is missing or unreadable, or a send failed
     */
    public Written produce(List<Path> inputs) throws IOException {
        List<Path> files = documents(inputs);
        long records = 0;
        for (int from = 0; from < files.size(); from += OPEN_DOCUMENTS) {
            records += interleave(files.subList(from, Math.min(files.size(), from + OPEN_DOCUMENTS)));
        }
        producer.flush();
        Exception failure = sendFailure;
        if (failure != null) {
            throw new IOException("writing to topic " + topic + " failed: " + failure.getMessage(), failure);
        }
        return new Written(files.size(), records);
    }

    /** Sends the chunks of {@code files} one of each in turn; returns how many. */
    private long interleave(List<Path> files) throws IOException {
        List<Reader> readers = new ArrayList<>();
        List<TextChunker> chunkers = new ArrayList<>();
        try {
            for (Path f : files) {
                Reader r = new InputStreamReader(Files.newInputStream(f), StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE));
                readers.add(r);
                chunkers.add(new TextChunker(r, f.getFileName().toString(), chunkChars));
            }
            long sent = 0;
            boolean any = true;
            while (any) {
                any = false;
                for (TextChunker chunker : chunkers) {
                    DocumentChunk chunk = chunker.next();
                    if (chunk != null) {
                        send(chunk);
                        sent++;
                        any = true;
                    }
                }
            }
            return sent;
        } finally {
            for (Reader r : readers) {
                r.close();
            }
        }
    }

    private void send(DocumentChunk chunk) throws IOException {
        byte[] key = chunk.docId().getBytes(StandardCharsets.UTF_8);
        byte[] value = DocumentChunkJson.write(chunk).getBytes(StandardCharsets.UTF_8);
        try {
            producer.send(new ProducerRecord<>(topic, key, value), (metadata, e) -> {
                if (e != null && sendFailure == null) {
                    sendFailure = e;
                }
            });
        } catch (RuntimeException e) {
            throw new IOException("sending chunk " + chunk.seq() + " of " + chunk.docId() + " to topic " + topic
                    + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * The document files under {@code inputs}, in name order per directory; names starting
     * with '.' or '_' are skipped, as the file source skips them.
     */
    static List<Path> documents(List<Path> inputs) throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path in : inputs) {
            if (Files.isRegularFile(in)) {
                files.add(in);
            } else if (Files.isDirectory(in)) {
                try (Stream<Path> walk = Files.walk(in)) {
                    walk.filter(Files::isRegularFile).filter(ChunkProducer::visible)
                            .sorted().forEach(files::add);
                }
            } else {
                throw new java.nio.file.NoSuchFileException(in.toString());
            }
        }
        return files;
    }

    private static boolean visible(Path file) {
        String name = file.getFileName().toString();
        return !name.startsWith(".") && !name.startsWith("_");
    }

    @Override
    public void close() {
        producer.close();
    }
}
