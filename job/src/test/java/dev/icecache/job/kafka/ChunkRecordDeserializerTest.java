package dev.icecache.job.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import dev.icecache.operators.document.DocumentChunk;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/** Records to chunks: a good record gives its chunk; every kind of bad record a malformed chunk saying where and why. */
class ChunkRecordDeserializerTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static DocumentChunk read(byte[] key, byte[] value) {
        List<DocumentChunk> out = new ArrayList<>();
        new ChunkRecordDeserializer().deserialize(new ConsumerRecord<>("docs", 2, 41L, key, value),
                new Collector<>() {
                    @Override
                    public void collect(DocumentChunk record) {
                        out.add(record);
                    }

                    @Override
                    public void close() {
                    }
                });
        assertEquals(1, out.size(), "one chunk per record, never none");
        return out.get(0);
    }

    private static void assertMalformed(DocumentChunk c, String docId, String problem) {
        assertTrue(c.isMalformed(), "malformed: " + c);
        assertEquals(docId, c.docId());
        assertEquals("malformed Kafka record docs/2@41: " + problem, c.text());
    }

    @Test
    void shouldReadAChunkRecord() {
        assertEquals(new DocumentChunk("a.txt", 4, "Hello\n", true),
                read(utf8("a.txt"), utf8("{\"doc\":\"a.txt\",\"seq\":4,\"text\":\"Hello\\n\",\"last\":true}")));
    }

    @Test
    void shouldNameTheRecordWhenTheKeyIsMissing() {
        assertMalformed(read(null, utf8("{}")), "docs/2@41", "it has no key; the key must be the document id");
    }

    @Test
    void shouldNameTheRecordWhenTheKeyIsNotUtf8() {
        assertMalformed(read(new byte[] {(byte) 0xff, (byte) 0xfe}, utf8("{}")), "docs/2@41", "its key is not UTF-8");
    }

    @Test
    void shouldEndTheKeysDocumentWhenTheValueIsMissingOrNotUtf8() {
        assertMalformed(read(utf8("a.txt"), null), "a.txt",
                "it has no value (a tombstone); the value must be a chunk object");
        assertMalformed(read(utf8("a.txt"), new byte[] {'{', (byte) 0xc3}), "a.txt", "its value is not UTF-8");
    }

    @Test
    void shouldCarryTheParsersMessageWhenTheJsonIsBad() {
        assertMalformed(read(utf8("a.txt"), utf8("{\"doc\":\"a.txt\",\"seq\":1,\"text\":\"t\"}")), "a.txt",
                "member \"last\" is missing; a chunk needs doc, seq, text and last");
    }

    @Test
    void shouldRejectARecordWhoseKeyIsNotItsDocument() {
        assertMalformed(read(utf8("a.txt"), utf8("{\"doc\":\"b.txt\",\"seq\":0,\"text\":\"t\",\"last\":true}")), "a.txt",
                "its key 'a.txt' differs from its \"doc\" 'b.txt'; a document's chunks are keyed by its id");
    }
}
