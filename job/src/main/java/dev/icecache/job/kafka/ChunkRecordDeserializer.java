package dev.icecache.job.kafka;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

import dev.icecache.operators.document.DocumentChunk;
import dev.icecache.operators.document.DocumentChunkJson;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Turns a Kafka record into a {@link DocumentChunk}: key = document id (UTF-8), value = one
 * {@link DocumentChunkJson} object whose {@code doc} equals the key. It never throws: a record
 * that breaks any of this (no key, bytes that are not UTF-8, bad JSON, a missing member, key
 * and {@code doc} differing) becomes a {@linkplain DocumentChunk#malformed malformed chunk}
 * naming the topic, partition, offset and the problem, so the job reports it in the output
 * instead of restarting on the same record forever.
 *
 * <p>The malformed chunk's document is the record's key when that is readable (the chunk
 * ends that document early), else {@code topic/partition@offset}.
 */
public final class ChunkRecordDeserializer implements KafkaRecordDeserializationSchema<DocumentChunk> {

    private static final long serialVersionUID = 1L;

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<DocumentChunk> out) {
        out.collect(read(record.topic(), record.partition(), record.offset(), record.key(), record.value()));
    }

    /**
     * The chunk a record holds, or a malformed chunk saying why it holds none.
     *
     * @param key the record's key bytes (may be null)
     * @param value the record's value bytes (may be null)
     */
    static DocumentChunk read(String topic, int partition, long offset, byte[] key, byte[] value) {
        String where = topic + "/" + partition + "@" + offset;
        String docId = key == null ? null : utf8(key);
        String fallbackId = docId == null || docId.isEmpty() ? where : docId;
        if (key == null || docId == null || docId.isEmpty()) {
            return malformed(fallbackId, where, key == null ? "it has no key; the key must be the document id"
                    : docId == null ? "its key is not UTF-8" : "its key is empty; the key must be the document id");
        }
        if (value == null) {
            return malformed(fallbackId, where, "it has no value (a tombstone); the value must be a chunk object");
        }
        String json = utf8(value);
        if (json == null) {
            return malformed(fallbackId, where, "its value is not UTF-8");
        }
        DocumentChunk chunk;
        try {
            chunk = DocumentChunkJson.read(json);
        } catch (IllegalArgumentException e) {
            return malformed(fallbackId, where, e.getMessage());
        }
        if (!chunk.docId().equals(docId)) {
            return malformed(fallbackId, where, "its key '" + docId + "' differs from its \"doc\" '" + chunk.docId()
                    + "'; a document's chunks are keyed by its id");
        }
        return chunk;
    }

    private static DocumentChunk malformed(String docId, String where, String problem) {
        return DocumentChunk.malformed(docId, "malformed Kafka record " + where + ": " + problem);
    }

    /** The bytes as UTF-8, or null when they are not valid UTF-8. */
    private static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    @Override
    public TypeInformation<DocumentChunk> getProducedType() {
        return TypeInformation.of(DocumentChunk.class);
    }
}
