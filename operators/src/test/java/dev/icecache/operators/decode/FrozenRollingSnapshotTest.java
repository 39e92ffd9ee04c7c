package dev.icecache.operators.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
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
import dev.icecache.operators.output.DocumentStats;
import dev.icecache.operators.output.SummaryPiece;
import dev.icecache.operators.tokenize.PromptTemplate;
import dev.icecache.operators.tokenize.TokenChunk;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OperatorSnapshotUtil;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * State evolution, version 2: the decoder state with rolling summaries (version 1 plus the
 * {@value IceCacheDecoder#ROLLING_STATE} value and the {@value IceCacheDecoder#WAITING_CHUNKS_STATE}
 * list, both Flink POJOs) is frozen under {@code src/test/resources/savepoints/decoder-v2/},
 * taken in the middle of the first rolling summary with chunks waiting, and must restore in
 * every later version and finish exactly as a run without the snapshot. Regenerate only with a
 * new directory for a new state version: {@code -Dicecache.snapshot.write=true} writes it.
 */
class FrozenRollingSnapshotTest {

    private static final Path FROZEN = Path.of("src/test/resources/savepoints/decoder-v2");
    private static final int CHUNK = 25;
    private static LlamaModel model;
    private static DecoderSettings settings;

    @BeforeAll
    static void load() {
        String path = TestModels.require(TestModels.STORIES_GGUF).toString();
        settings = new DecoderSettings(path, TestModels.STORIES_CONTEXT, 256,
                PromptTemplate.parse("{document}\n\nSummary:"),
                new GenerationSettings(20, 0f, 1f, 1, 3).withRolling(64, 8), Policy.ICECACHE, 64, 2, PageFormat.F32, 1);
        model = SharedModels.acquire(path, TestModels.STORIES_CONTEXT);
    }

    @AfterAll
    static void release() {
        SharedModels.release(settings.modelPath(), settings.contextLength());
    }

    @Test
    void shouldKeepTheRollingStateTypesFlinkPojos() {
        // NOTE: a generic (Kryo) type here would make the frozen bytes depend on Kryo's registrations
        assertInstanceOf(PojoTypeInfo.class, TypeInformation.of(RollingProgress.class));
        assertInstanceOf(PojoTypeInfo.class, TypeInformation.of(TokenChunk.class));
    }

    @Test
    void shouldRestoreTheFrozenVersionTwoSnapshotAndFinishAsWithoutIt() throws Exception {
        Path snapshot = FROZEN.resolve("mid-rolling-summary.snapshot");
        assertTrue(Files.isRegularFile(snapshot), "frozen snapshot missing: " + snapshot.toAbsolutePath());
        List<String> out = new ArrayList<>(Files.readAllLines(FROZEN.resolve("pieces-before-snapshot.jsonl"),
                StandardCharsets.UTF_8));
        assertTrue(out.size() >= 1 && out.get(0).contains("\"kind\":\"rolling\""), "a rolling piece came first");
        try (var harness = newHarness()) {
            harness.initializeState(OperatorSnapshotUtil.readStateHandle(snapshot.toString()));
            harness.open();
            for (long t = 10; harness.numProcessingTimeTimers() > 0; t++) {
                assertTrue(t < 1000, "generation did not end");
                harness.setProcessingTime(t);
            }
            out.addAll(comparable(harness.extractOutputValues()));
            assertEquals(0, harness.numKeyedStateEntries(), "state cleared at the document's end");
        }
        List<String> whole;
        try (var harness = newHarness()) {
            harness.open();
            feed(harness);
            for (long t = 1; harness.numProcessingTimeTimers() > 0; t++) {
                harness.setProcessingTime(t);
            }
            whole = comparable(harness.extractOutputValues());
        }
        assertEquals(whole, out, "pieces before the snapshot + after the restore");
    }

    /** Writes the frozen files; run once per state version, never over an existing version. */
    @Test
    @EnabledIfSystemProperty(named = "icecache.snapshot.write", matches = "true")
    void writeFrozenSnapshot() throws Exception {
        Files.createDirectories(FROZEN);
        try (var harness = newHarness()) {
            harness.open();
            feed(harness);
            harness.setProcessingTime(1);
            harness.setProcessingTime(2);
            List<String> before = comparable(harness.extractOutputValues());
            OperatorSubtaskState state = harness.snapshot(1, 3);
            OperatorSnapshotUtil.writeStateHandle(state, FROZEN.resolve("mid-rolling-summary.snapshot").toString());
            Files.write(FROZEN.resolve("pieces-before-snapshot.jsonl"), before, StandardCharsets.UTF_8);
        }
    }

    /** All chunks of the document at once: the first rolling summary starts at 75 tokens, the rest wait. */
    private static void feed(KeyedOneInputStreamOperatorTestHarness<String, TokenChunk, SummaryPiece> harness)
            throws Exception {
        SplittableRandom random = new SplittableRandom(20261128);
        int[] t = new int[230];
        for (int i = 0; i < t.length; i++) {
            t[i] = 3 + random.nextInt(model.config().vocabSize() - 3);
        }
        int[] document = RollingReference.concat(t,
                settings.prompt().instructionTokens(model.tokenizer()));
        for (int seq = 0; seq * CHUNK < document.length; seq++) {
            int end = Math.min(document.length, (seq + 1) * CHUNK);
            harness.processElement(new TokenChunk("frozen", seq, Arrays.copyOfRange(document, seq * CHUNK, end),
                    end == document.length), 0);
        }
    }

    /** JSON lines without the figures a restore changes (seconds, and page moves of the refilled pool). */
    private static List<String> comparable(List<SummaryPiece> pieces) {
        return pieces.stream().map(p -> new SummaryPiece(p.docId(), p.seq(), p.text(), p.last(),
                new DocumentStats(p.stats().tokensIn(), p.stats().tokensOut(), 0, 0.0, 0.0), p.error(), p.kind(),
                p.upTo()).toJsonLine()).toList();
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, TokenChunk, SummaryPiece> newHarness()
            throws Exception {
        var harness = new KeyedOneInputStreamOperatorTestHarness<>(new DecoderOperator(new IceCacheDecoder(settings)),
                TokenChunk::docId, Types.STRING);
        harness.setStateBackend(new HashMapStateBackend());
        return harness;
    }
}
