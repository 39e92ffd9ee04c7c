package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

import dev.icecache.kvcache.page.PageKey;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.CacheSnapshot;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.Sampler;
import dev.icecache.model.Session;
import dev.icecache.operators.state.DocumentCache;
import dev.icecache.operators.tokenize.PromptTemplate;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code inspect-state} on a savepoint the summarize job takes in the middle of its long
 * document, checked against the engine alone brought to the same position.
 */
class InspectStateCommandTest {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2)
                    .build());

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path shared;

    private static Path documents;
    private static Path savepoint;
    private static JsonNode state;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeAll
    static void takeASavepointInTheMiddleOfTheLongDocument() throws Exception {
        documents = JobFixtures.writeDocuments(shared.resolve("docs"));
        try (DecoderLog log = DecoderLog.attach()) {
            // the source watches the directory so it is still running when stopped; the barrier
            // reaches the decoder behind the buffered chunks of the long document (as in SummarizeJobTest)
            JobClient job = new SummarizeJob(SummarizeJob.fileSource(documents, 256, Duration.ofSeconds(1)),
                    SummarizeJob.fileSink(shared.resolve("out")), JobFixtures.config(shared.resolve("cp")))
                    .executeAsync();
            assertTrue(log.awaitLine("document long.txt started", Duration.ofMinutes(2)), "long.txt never started");
            savepoint = Path.of(java.net.URI.create(
                    JobFixtures.stopWithSavepoint(job, shared.resolve("savepoints"))));
        }
        InspectStateCommandTest t = new InspectStateCommandTest();
        assertEquals(0, t.run("inspect-state", savepoint.toString(), "--json"), t.err.toString());
        state = JSON.readTree(t.out.toString());
    }

    private int run(String... args) {
        var cli = IceCacheCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

    private static JsonNode document(String id) {
        for (JsonNode d : state.get("documents")) {
            if (d.get("doc").asText().equals(id)) {
                return d;
            }
        }
        throw new AssertionError("no document " + id + " in " + state);
    }

    @Test
    void shouldHoldTheLongDocumentAsTheEngineAloneHoldsItAtTheSamePosition() throws Exception {
        JsonNode doc = document("long.txt");
        System.out.println("long.txt in the savepoint: " + doc);
        LlamaModel model = LlamaModel.load(JobFixtures.model(), new LoadOptions(null, JobFixtures.CONTEXT));
        String prompt = PromptTemplate.parse(JobFixtures.PROMPT).apply(Files.readString(documents.resolve("long.txt")));
        int[] encoded = model.tokenizer().encode(prompt);
        int[] all = new int[encoded.length + 1];
        all[0] = model.tokenizer().bos();
        System.arraycopy(encoded, 0, all, 1, encoded.length);

        int position = doc.get("position").asInt();
        long promptTokens = doc.get("prompt_tokens").asLong();
        String phase = doc.get("phase").asText();
        assertTrue(position > 0 && promptTokens <= all.length, "position=" + position + " of " + all.length);
        if (phase.equals("prefill")) {
            assertEquals(promptTokens, position + doc.get("held_tokens").asLong(), "prompt tokens = run + held");
            assertEquals(0, position % Session.PREFILL_BATCH, "prefill runs whole engine batches");
        } else {
            assertEquals("decode", phase);
            assertEquals(all.length, promptTokens, "a decoding document has seen its whole prompt");
            assertEquals(promptTokens + doc.get("generated").asLong(), position, "position = prompt + generated");
        }

        // the engine alone over an in-memory store, brought to the same position, then snapshotted
        RecordingPageStore store = new RecordingPageStore(PageLayout.of(model.config().headDim()),
                CacheConfig.DEFAULT_PAGE_FORMAT);
        PagedKvCache cache = new PagedKvCache(model.cacheShape(),
                JobFixtures.decoderCacheConfig(JobFixtures.BUDGET_TOKENS), store,
                DocumentCache.projection(model.config().headDim()));
        Session session = model.newSession(cache);
        int prefilled = phase.equals("prefill") ? position : all.length;
        float[] logits = session.prefill(all, 0, prefilled, !phase.equals("prefill"));
        Sampler greedy = new Sampler(0f, 1f, 0);
        for (long i = 0; i < doc.get("generated").asLong(); i++) {
            logits = session.step(greedy.sample(logits));
        }
        assertEquals(position, session.position());
        CacheSnapshot snapshot = cache.snapshot();
        Set<Long> cellKeys = new HashSet<>();
        long cellBytes = 0;
        for (int i = 0; i < snapshot.cellCount(); i++) {
            assertTrue(cellKeys.add(PageKey.of(snapshot.cellLayer()[i], snapshot.cellHead()[i], snapshot.cellId()[i])));
            cellBytes += snapshot.cellBytes()[i].length;
        }
        int headDim = model.config().headDim();
        assertEquals(store.validRows.size(), doc.get("pages").asLong(), "pages in state");
        assertEquals(store.rows(), doc.get("page_rows").asLong(), "K/V rows in state");
        assertEquals(9L * store.validRows.size() + 4L * headDim * store.rows(), doc.get("page_bytes").asLong(),
                "page bytes: 2 ints + a format byte + K and V in BF16 (2 bytes a value) per row");
        long patches = doc.get("patches").asLong();
        assertTrue(patches <= doc.get("pages").asLong(), "at most one patch per page");
        assertTrue(doc.get("patch_bytes").asLong() >= 17L * patches, "a patch: 2 ints + a page of its rows");
        assertEquals(snapshot.header().length, doc.get("header_bytes").asLong(), "cache header bytes");
        assertEquals(cellKeys.size(), doc.get("cells").asLong(), "index cells in state");
        assertEquals(cellBytes, doc.get("cell_bytes").asLong(), "index cell bytes");
        int sparseLayers = model.config().nLayers() - CacheConfig.DEFAULT_DENSE_LAYERS;
        assertEquals((long) sparseLayers * model.config().nKvHeads(), doc.get("trees").asLong(),
                "one tree per sparse layer and KV head");
    }

    @Test
    void shouldKeepEveryDocumentsFiguresConsistentAndAddThemUp() {
        long pages = 0;
        long bytes = 0;
        for (JsonNode d : state.get("documents")) {
            assertEquals(d.get("recorded_pages").asLong(), d.get("pages").asLong(), "pages of " + d);
            long nodes = 0;
            for (JsonNode n : d.get("nodes_per_level")) {
                nodes += n.asLong();
            }
            assertEquals(d.get("nodes").asLong(), nodes, "nodes per level add up to the nodes of " + d);
            assertEquals(d.get("nodes_per_level").size(), d.get("levels").asInt());
            assertTrue(d.get("levels").asInt() >= 1, "an IceCache document has tree nodes: " + d);
            pages += d.get("pages").asLong();
            bytes += d.get("total_bytes").asLong();
        }
        assertEquals(pages, state.get("total").get("pages").asLong());
        assertEquals(bytes, state.get("total").get("total_bytes").asLong());
    }

    @Test
    void shouldPrintTheSameFiguresAsATableForOneDocument() {
        assertEquals(0, run("inspect-state", savepoint.toString(), "--doc", "long.txt"), err.toString());
        JsonNode doc = document("long.txt");
        String row = out.toString().lines().filter(l -> l.startsWith("long.txt ")).findFirst()
                .orElseThrow(() -> new AssertionError("no long.txt row in\n" + out));
        String[] cols = row.trim().split("\\s+");
        assertEquals(doc.get("phase").asText(), cols[1], row);
        assertEquals(doc.get("position").asText(), cols[2], row);
        assertEquals(doc.get("pages").asText(), cols[6], row);
        assertEquals(String.format(java.util.Locale.ROOT, "%,d", doc.get("page_bytes").asLong()), cols[7], row);
        assertTrue(out.toString().contains("documents: 1 ("), out.toString());
    }

    @Test
    void shouldExitWithOneNamingTheDocumentsWhenTheDocumentIsAbsent() {
        assertEquals(1, run("inspect-state", savepoint.toString(), "--doc", "missing.txt"));
        assertTrue(err.toString().startsWith("icecache: document 'missing.txt' is not in the state")
                && err.toString().contains("long.txt"), err.toString());
    }

    @Test
    void shouldExitWithOneWhenTheDecoderUidIsAbsent() {
        assertEquals(1, run("inspect-state", savepoint.toString(), "--uid", "no-such-operator"));
        assertTrue(err.toString().contains("no state of operator uid 'no-such-operator'"), err.toString());
        assertEquals(1, err.toString().lines().count(), err.toString());
    }

    @Test
    void shouldExitWithOneAndPointAtTheCheckpointsInsideADirectory() {
        assertEquals(1, run("inspect-state", savepoint.getParent().toString()));
        assertTrue(err.toString().contains("has no _metadata file")
                && err.toString().contains(savepoint.getFileName().toString()), err.toString());
    }

    @Test
    void shouldExitWithOneWhenTheMetadataIsNotFlinks(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("_metadata"), "not a checkpoint");
        assertEquals(1, run("inspect-state", dir.toString()));
        assertTrue(err.toString().contains("is not Flink checkpoint metadata"), err.toString());
        assertEquals(1, err.toString().lines().count(), err.toString());
    }

    @Test
    void shouldExitWithTwoOnAnEmptyUid() {
        assertEquals(2, run("inspect-state", savepoint.toString(), "--uid", ""));
        assertTrue(err.toString().contains("--uid"), err.toString());
    }
}
