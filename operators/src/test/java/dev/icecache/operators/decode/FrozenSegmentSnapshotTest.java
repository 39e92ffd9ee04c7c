package dev.icecache.operators.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.model.LlamaModel;
import dev.icecache.operators.TestModels;
import dev.icecache.operators.config.DecoderSettings;
import dev.icecache.operators.output.SummaryPiece;
import dev.icecache.operators.tokenize.PromptTemplate;
import dev.icecache.operators.tokenize.TokenChunk;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OperatorSnapshotUtil;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * State evolution, version 3: the decoder state of a document longer than the context (version
 * 2 plus the {@value IceCacheDecoder#SEGMENTS_STATE} value, a Flink POJO) is frozen under
 * {@code src/test/resources/savepoints/decoder-v3/}, taken in its second context in the middle
 * of a segment summary with chunks waiting, and must restore in every later version and finish
 * exactly as a run without the snapshot. Regenerate only with a new directory for a new state
 * version: {@code -Dicecache.snapshot.write=true} writes it.
 */
class FrozenSegmentSnapshotTest {

    private static final Path FROZEN = Path.of("src/test/resources/savepoints/decoder-v3");
    private static final int CONTEXT = 256;
    private static final int CHUNK = 30;
    private static LlamaModel model;
    private static DecoderSettings settings;

    @BeforeAll
    static void load() {
        String path = TestModels.require(TestModels.STORIES_GGUF).toString();
        settings = new DecoderSettings(path, CONTEXT, 256, PromptTemplate.parse("{document}\n\nSummary:"),
                new GenerationSettings(24, 0f, 1f, 1, 4).withOverflow(OverflowMode.REFINE, 0), Policy.ICECACHE, 64,
                2, PageFormat.F32, 1);
        model = SharedModels.acquire(path, CONTEXT);
    }

    @AfterAll
    static void release() {
        SharedModels.release(settings.modelPath(), settings.contextLength());
    }

    @Test
    void shouldRestoreTheFrozenVersionThreeSnapshotAndFinishAsWithoutIt() throws Exception {
        Path snapshot = FROZEN.resolve("mid-segment-summary.snapshot");
        assertTrue(Files.isRegularFile(snapshot), "frozen snapshot missing: " + snapshot.toAbsolutePath());
        List<String> out = new ArrayList<>(Files.readAllLines(FROZEN.resolve("pieces-before-snapshot.jsonl"),
                StandardCharsets.UTF_8));
        assertTrue(out.stream().filter(l -> l.contains("\"kind\":\"segment\"")).map(l -> l.replaceAll(
                ".*\"up_to\":(\\d+).*", "$1")).distinct().count() >= 2, "the snapshot is in a later segment: " + out);
        try (var harness = DecoderTestData.newHarness(settings)) {
            harness.initializeState(OperatorSnapshotUtil.readStateHandle(snapshot.toString()));
            harness.open();
            for (long t = 1000; harness.numProcessingTimeTimers() > 0; t++) {
                assertTrue(t < 10_000, "generation did not end");
                harness.setProcessingTime(t);
            }
            out.addAll(DecoderTestData.withoutAttemptFigures(harness.extractOutputValues()));
            assertEquals(0, harness.numKeyedStateEntries(), "state cleared at the document's end");
        }
        List<String> whole;
        try (var harness = DecoderTestData.newHarness(settings)) {
            harness.open();
            feed(harness);
            for (long t = 1; harness.numProcessingTimeTimers() > 0; t++) {
                harness.setProcessingTime(t);
            }
            whole = DecoderTestData.withoutAttemptFigures(harness.extractOutputValues());
        }
        assertEquals(whole, out, "pieces before the snapshot + after the restore");
    }

    /** Writes the frozen files; run once per state version, never over an existing version. */
    @Test
    @EnabledIfSystemProperty(named = "icecache.snapshot.write", matches = "true")
    void writeFrozenSnapshot() throws Exception {
        Files.createDirectories(FROZEN);
        try (var harness = DecoderTestData.newHarness(settings)) {
            harness.open();
            feed(harness);
            long t = 1;
            while (harness.extractOutputValues().stream().map(SummaryPiece::upTo).distinct().count() < 2) {
                harness.setProcessingTime(t++); // into the second segment summary
            }
            List<String> before = DecoderTestData.withoutAttemptFigures(harness.extractOutputValues());
            OperatorSubtaskState state = harness.snapshot(1, t);
            OperatorSnapshotUtil.writeStateHandle(state, FROZEN.resolve("mid-segment-summary.snapshot").toString());
            Files.write(FROZEN.resolve("pieces-before-snapshot.jsonl"), before, StandardCharsets.UTF_8);
        }
    }

    /** All chunks of a document of 900 random tokens and the instruction at once: the later ones wait. */
    private static void feed(KeyedOneInputStreamOperatorTestHarness<String, TokenChunk, SummaryPiece> harness)
            throws Exception {
        int[] document = RollingReference.concat(
                DecoderTestData.randomTokens(new SplittableRandom(20261206), model.config().vocabSize(), 900),
                settings.prompt().instructionTokens(model.tokenizer()));
        for (int seq = 0; seq * CHUNK < document.length; seq++) {
            int end = Math.min(document.length, (seq + 1) * CHUNK);
            harness.processElement(new TokenChunk("frozen", seq, Arrays.copyOfRange(document, seq * CHUNK, end),
                    end == document.length), 0);
        }
    }
}
