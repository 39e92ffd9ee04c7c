package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * One job over hostile documents next to a normal one: empty, one byte, binary garbage, invalid
 * UTF-8, a single 50 MB line (written at test time, streamed) and a document longer than the
 * context. Each ends with a final line (text, or an "error" field for the too-long ones); the
 * job neither fails nor restarts, and the normal document's text equals the engine alone.
 * {@code -Dicecache.hostile.line-mb=N} changes the size of the long line.
 */
class HostileDocumentsJobTest {

    private static final int CONTEXT = 512;
    private static final int LINE_MB = Integer.getInteger("icecache.hostile.line-mb", 50);
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2)
                    .build());

    @TempDir
    Path dir;

    @Test
    void shouldAnswerEveryHostileDocumentWithoutFailingTheJob() throws Exception {
        Path docs = Files.createDirectories(dir.resolve("docs"));
        Path examples = Path.of(System.getProperty("icecache.examples.dir", "../examples/documents"));
        String garden = Files.readString(examples.resolve("garden.txt"));
        Files.writeString(docs.resolve("normal.txt"), garden.substring(0, garden.indexOf("\n\n")));
        Files.write(docs.resolve("empty.txt"), new byte[0]);
        Files.write(docs.resolve("one-byte.txt"), new byte[] {'a'});
        byte[] garbage = new byte[160]; // byte-fallback tokens: about 2 per byte, within the context
        new SplittableRandom(6).nextBytes(garbage);
        Files.write(docs.resolve("garbage.bin"), garbage);
        Files.write(docs.resolve("invalid-utf8.txt"), invalidUtf8());
        Files.writeString(docs.resolve("too-long.txt"), (Files.readString(examples.resolve("lighthouse.txt")) + "\n")
                .repeat(3));
        long lineBytes = writeOneLine(docs.resolve("one-line.txt"), (long) LINE_MB << 20);

        Configuration config = JobFixtures.config(dir.resolve("cp"));
        config.setString("icecache.model.context", Integer.toString(CONTEXT));
        // today's rejection, kept as an option (the default reads long documents in segments: OverflowJobTest)
        config.setString("icecache.summary.overflow", "reject");
        config.setString("restart-strategy.type", "none"); // any failure must fail the test, not hide in a restart
        Path out = dir.resolve("out");
        long start = System.nanoTime();
        new SummarizeJob(SummarizeJob.fileSource(docs, 1 << 16), SummarizeJob.fileSink(out), config).execute();
        double seconds = (System.nanoTime() - start) / 1e9;

        Map<String, List<JobFixtures.Piece>> output = JobFixtures.readOutput(out);
        Map<String, String> errors = readErrors(out);
        assertEquals(List.of("empty.txt", "garbage.bin", "invalid-utf8.txt", "normal.txt", "one-byte.txt",
                "one-line.txt", "too-long.txt"), List.copyOf(output.keySet()), "one answer per document");
        for (var e : output.entrySet()) {
            JobFixtures.text(e.getValue()); // seq 0..n-1, only the last final
        }
        for (String rejected : List.of("too-long.txt", "one-line.txt")) {
            String error = errors.get(rejected);
            assertTrue(error != null && error.contains("icecache.model.context allows " + CONTEXT), rejected + ": " + error);
            JobFixtures.Piece last = output.get(rejected).get(0);
            assertTrue(last.tokensIn() > CONTEXT && last.tokensOut() == 0, rejected + ": " + last);
        }
        assertTrue(output.get("one-line.txt").get(0).tokensIn() > lineBytes / 8, "the whole line was counted");
        for (String answered : List.of("empty.txt", "one-byte.txt", "garbage.bin", "invalid-utf8.txt", "normal.txt")) {
            assertNull(errors.get(answered), answered + " was rejected: " + errors.get(answered));
            List<JobFixtures.Piece> pieces = output.get(answered);
            assertTrue(pieces.get(pieces.size() - 1).tokensOut() > 0, answered + " generated nothing");
        }
        assertEquals(JobFixtures.engineAlone(docs.resolve("normal.txt")), JobFixtures.text(output.get("normal.txt")));
        System.out.printf("hostile documents: 7 documents (incl. one %d MB line) answered in %.1f s, 2 rejected"
                + " with an error line, 0 restarts%n", LINE_MB, seconds);
    }

    /** Text broken by every kind of malformed UTF-8: stray continuation, truncated, overlong, surrogate, 0xFF. */
    private static byte[] invalidUtf8() {
        byte[][] parts = {"The fox ".getBytes(StandardCharsets.UTF_8), {(byte) 0x80, (byte) 0xBF},
            " ran ".getBytes(StandardCharsets.UTF_8), {(byte) 0xE2, (byte) 0x82}, " to ".getBytes(StandardCharsets.UTF_8),
            {(byte) 0xC0, (byte) 0xAF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xFF, (byte) 0xFE},
            " the tree.".getBytes(StandardCharsets.UTF_8), {(byte) 0xF0, (byte) 0x9F}};
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] all = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    /** Writes words without a line break until {@code bytes}, streaming; returns the size written. */
    private static long writeOneLine(Path file, long bytes) throws IOException {
        String[] words = {"the ", "little ", "fox ", "ran ", "to ", "a ", "big ", "tree ", "and ", "sat. "};
        SplittableRandom random = new SplittableRandom(50);
        long written = 0;
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.US_ASCII)) {
            while (written < bytes) {
                String word = words[random.nextInt(words.length)];
                w.write(word);
                written += word.length();
            }
        }
        return written;
    }

    private static Map<String, String> readErrors(Path outputDir) throws IOException {
        Map<String, String> errors = new HashMap<>();
        try (Stream<Path> files = Files.walk(outputDir)) {
            for (Path f : files.filter(Files::isRegularFile)
                    .filter(p -> !p.getFileName().toString().startsWith(".")).toList()) {
                for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                    JsonNode n = JSON.readTree(line);
                    if (n.has("error")) {
                        assertFalse(errors.containsKey(n.get("doc").asText()), "two errors for one document");
                        errors.put(n.get("doc").asText(), n.get("error").asText());
                    }
                }
            }
        }
        return errors;
    }
}
