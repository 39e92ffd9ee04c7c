package dev.icecache.job.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.icecache.job.IceCacheCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/**
 * {@code summarize} reads exactly one of --input and Kafka; {@code produce} checks its options
 * and inputs before it contacts a broker. Every mistake: exit 2 (1 for a missing file), one line.
 */
class KafkaOptionsTest {

    @TempDir
    Path dir;

    private final StringWriter err = new StringWriter();

    private int run(List<String> args) {
        CommandLine cli = IceCacheCli.commandLine();
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(new StringWriter(), true));
        return cli.execute(args.toArray(String[]::new));
    }

    private void assertOneLine(String expectedStart) {
        String text = err.toString();
        assertEquals(1, text.strip().lines().count(), "one line: " + text);
        assertTrue(text.startsWith("icecache: " + expectedStart), text);
        assertFalse(text.contains("\tat ") || text.contains("Exception"), "no stack trace: " + text);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "--input DIR --kafka-bootstrap localhost:9092 --kafka-topic t|--kafka-bootstrap=localhost:9092 is invalid;"
                + " allowed: only without --input",
        "--max-tokens 4|--input is not set; allowed: a document file or directory, or --kafka-bootstrap",
        "--kafka-bootstrap localhost:9092|--kafka-topic is not set; allowed: the topic to read, with --kafka-bootstrap",
        "--kafka-topic t|--kafka-bootstrap is not set; allowed: HOST:PORT when --kafka-topic or --kafka-bounded is given",
        "--input DIR --kafka-bounded|--kafka-bootstrap is not set; allowed: HOST:PORT when --kafka-topic",
    })
    void shouldExitWithTwoWhenTheSourceOptionsDoNotNameExactlyOneSource(String options, String expected)
            throws IOException {
        Path model = Files.writeString(dir.resolve("model.gguf"), "never read: options fail first");
        List<String> args = new ArrayList<>(List.of("summarize", "--model", model.toString()));
        for (String o : options.split(" ")) {
            args.add(o.equals("DIR") ? dir.toString() : o);
        }
        assertEquals(IceCacheCli.EXIT_BAD_OPTION, run(args), err.toString());
        assertOneLine(expected);
    }

    @Test
    void shouldExitWithTwoWhenProduceHasNoTopic() {
        assertEquals(2, run(List.of("produce", "--kafka-bootstrap", "localhost:9092", dir.toString())));
        assertTrue(err.toString().contains("--kafka-topic"), err.toString());
    }

    @Test
    void shouldExitWithTwoWhenProduceChunksAreTooSmall() {
        assertEquals(2, run(List.of("produce", "--kafka-bootstrap", "localhost:9092", "--kafka-topic", "t",
                "--chunk-chars", "4", dir.toString())));
        assertOneLine("--chunk-chars=4 is invalid; allowed: an integer >= 16");
    }

    @Test
    void shouldExitWithOneBeforeContactingKafkaWhenAnInputIsMissing() {
        // the bootstrap address is never dialled: the missing file is found first
        Path missing = dir.resolve("nope.txt");
        assertEquals(1, run(List.of("produce", "--kafka-bootstrap", "localhost:1", "--kafka-topic", "t",
                missing.toString())));
        assertOneLine("file not found: " + missing);
    }
}
