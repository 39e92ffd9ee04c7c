package dev.icecache.operators.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.Sampler;
import dev.icecache.operators.TestModels;
import dev.icecache.operators.config.DecoderSettings;
import dev.icecache.operators.output.SummaryPiece;
import dev.icecache.operators.state.DocumentCache;
import dev.icecache.operators.tokenize.PromptTemplate;
import dev.icecache.operators.tokenize.TokenChunk;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OperatorSnapshotUtil;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * State evolution: a decoder snapshot taken mid-decode by version 1 of the state serializers
 * (StoredDocument/DocumentProgress POJOs, PageSerializer v1, cell bytes) is frozen under
 * {@code src/test/resources/savepoints/decoder-v1/} and must restore in every later version
 * and finish the document exactly as the engine alone would. Regenerate only with a new
 * directory for a new state version: {@code -Dicecache.snapshot.write=true} writes it.
 */
class FrozenSnapshotTest {

    private static final Path FROZEN = Path.of("src/test/resources/savepoints/decoder-v1");
    private static final int MAX_TOKENS = 40;
    private static LlamaModel model;
    private static DecoderSettings settings;

    @BeforeAll
    static void load() {
        String path = TestModels.require(TestModels.STORIES_GGUF).toString();
        settings = new DecoderSettings(path, TestModels.STORIES_CONTEXT, 256, new PromptTemplate("", ""),
                new GenerationSettings(MAX_TOKENS, 0f, 1f, 1, 6), Policy.ICECACHE, 64, 2, PageFormat.F32, 1);
        model = SharedModels.acquire(path, TestModels.STORIES_CONTEXT);
    }

    @AfterAll
    static void release() {
        SharedModels.release(settings.modelPath(), settings.contextLength());
    }

    @Test
    void shouldRestoreTheFrozenVersionOneSnapshotAndFinishTheDocument() throws Exception {
        Path snapshot = FROZEN.resolve("mid-decode.snapshot");
        assertTrue(Files.isRegularFile(snapshot), "frozen snapshot missing: " + snapshot.toAbsolutePath());
        String before = Files.readString(FROZEN.resolve("text-before-snapshot.txt"), StandardCharsets.UTF_8);
        List<SummaryPiece> after = new ArrayList<>();
        try (var harness = newHarness()) {
            harness.initializeState(OperatorSnapshotUtil.readStateHandle(snapshot.toString()));
            harness.open();
            for (long t = 10; harness.numProcessingTimeTimers() > 0; t++) {
                assertTrue(t < 10 + 10 * MAX_TOKENS, "generation did not end");
                harness.setProcessingTime(t);
            }
            after.addAll(harness.extractOutputValues());
            assertEquals(0, harness.numKeyedStateEntries(), "state cleared at the document's end");
        }
        assertFalse(after.isEmpty(), "the restored document emitted nothing");
        assertTrue(after.get(0).seq() > 0, "the snapshot was taken after the first piece");
        assertTrue(after.get(after.size() - 1).last());
        StringBuilder text = new StringBuilder(before);
        after.forEach(p -> text.append(p.text()));
        assertEquals(engineAlone(prompt()), text.toString(), "text before the snapshot + after the restore");
    }

    /** Writes the frozen files; run once per state version, never over an existing version. */
    @Test
    @EnabledIfSystemProperty(named = "icecache.snapshot.write", matches = "true")
    void writeFrozenSnapshot() throws Exception {
        int[] prompt = prompt();
        Files.createDirectories(FROZEN);
        try (var harness = newHarness()) {
            harness.open();
            for (int pos = 0, seq = 0; pos < prompt.length; pos += 25, seq++) {
                int end = Math.min(prompt.length, pos + 25);
                harness.processElement(new TokenChunk("frozen", seq, Arrays.copyOfRange(prompt, pos, end),
                        end == prompt.length), 0);
            }
            harness.setProcessingTime(1);
            harness.setProcessingTime(2);
            StringBuilder before = new StringBuilder();
            harness.extractOutputValues().forEach(p -> before.append(p.text()));
            OperatorSubtaskState state = harness.snapshot(1, 3);
            OperatorSnapshotUtil.writeStateHandle(state, FROZEN.resolve("mid-decode.snapshot").toString());
            Files.writeString(FROZEN.resolve("text-before-snapshot.txt"), before, StandardCharsets.UTF_8);
        }
    }

    private static int[] prompt() {
        SplittableRandom random = new SplittableRandom(20261128);
        int[] t = new int[200];
        for (int i = 0; i < t.length; i++) {
            t[i] = 3 + random.nextInt(model.config().vocabSize() - 3);
        }
        return t;
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, TokenChunk, SummaryPiece> newHarness()
            throws Exception {
        var harness = new KeyedOneInputStreamOperatorTestHarness<>(new DecoderOperator(new IceCacheDecoder(settings)),
                TokenChunk::docId, Types.STRING);
        harness.setStateBackend(new HashMapStateBackend());
        return harness;
    }

    private static String engineAlone(int[] prompt) {
        var cache = new PagedKvCache(model.cacheShape(), settings.cacheConfig(),
                new InMemoryPageStore(PageLayout.of(model.config().headDim()), settings.pageFormat()),
                DocumentCache.projection(model.config().headDim()));
        int[] tokens = DocumentSessionTest.engineAloneWith(model, cache, prompt, MAX_TOKENS, new Sampler(0f, 1f, 0));
        return new TextAssembler(model.tokenizer()::tokenBytes).append(new byte[0], tokens, 0, tokens.length, true)
                .text();
    }
}
