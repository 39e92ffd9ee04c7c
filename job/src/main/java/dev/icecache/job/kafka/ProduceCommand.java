package dev.icecache.job.kafka;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import dev.icecache.operators.config.IceCacheOptions;
import dev.icecache.operators.config.InvalidOptionException;
import dev.icecache.operators.document.TextChunker;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code icecache produce}: writes documents to a Kafka topic as the chunk records that
 * {@code icecache summarize --kafka-bootstrap ... --kafka-topic ...} reads.
 */
@Command(name = "produce", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Write documents to a Kafka topic as chunk records (key = document id = file name, value ="
                + " {\"doc\",\"seq\",\"text\",\"last\"} JSON), the input of summarize --kafka-topic.",
        footer = {"", "Examples:",
            "  icecache produce --kafka-bootstrap localhost:9092 --kafka-topic docs \\",
            "      examples/documents",
            "  icecache summarize --kafka-bootstrap localhost:9092 --kafka-topic docs \\",
            "      --kafka-bounded --model model.gguf --output /tmp/summaries",
            "", "Exit codes: 0 done, 1 unreadable input or Kafka failure, 2 bad option."})
public final class ProduceCommand implements Callable<Integer> {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Option(names = "--kafka-bootstrap", required = true, paramLabel = "HOST:PORT[,...]",
            description = "Kafka bootstrap servers; required.")
    String bootstrap;

    @Option(names = "--kafka-topic", required = true, paramLabel = "TOPIC", description = "Topic to write; required.")
    String topic;

    @Option(names = "--partitions", defaultValue = "3", paramLabel = "N",
            description = "Partitions of the topic when this command creates it (it does when the topic is missing;"
                    + " an existing topic is used as it is) (default: ${DEFAULT-VALUE}).")
    int partitions;

    @Option(names = "--chunk-chars", paramLabel = "N", description = "Most characters per chunk (default: 4096).")
    Integer chunkChars;

    @Parameters(arity = "1..*", paramLabel = "FILE|DIR",
            description = "Documents: files, or directories whose files are documents (id = file name).")
    List<Path> inputs;

    @Override
    public Integer call() throws Exception {
        int chunk = chunkChars == null ? IceCacheOptions.CHUNK_CHARS.defaultValue() : chunkChars;
        if (chunk < TextChunker.MIN_CHUNK_CHARS) {
            throw new InvalidOptionException("--chunk-chars", chunk, "an integer >= " + TextChunker.MIN_CHUNK_CHARS);
        }
        if (partitions < 1) {
            throw new InvalidOptionException("--partitions", partitions, "an integer >= 1");
        }
        ChunkProducer.documents(inputs); // a missing input fails before anything is written
        PrintWriter out = spec.commandLine().getOut();
        if (ChunkProducer.createTopicIfMissing(bootstrap, topic, partitions)) {
            out.println("created topic " + topic + " with " + partitions + " partitions");
        }
        try (ChunkProducer producer = new ChunkProducer(ChunkProducer.idempotentProducer(bootstrap), topic, chunk)) {
            ChunkProducer.Written written = producer.produce(inputs);
            out.println("produced " + written.documents() + " documents as " + written.records()
                    + " records to topic " + topic + " at " + bootstrap);
            out.flush();
        }
        return 0;
    }
}
