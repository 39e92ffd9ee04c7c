package dev.icecache.operators.decode;

import java.util.ArrayList;
import java.util.List;

import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.tree.Projection;
import dev.icecache.model.LlamaModel;
import dev.icecache.operators.config.DecoderSettings;
import dev.icecache.operators.config.IceCacheOptions;
import dev.icecache.operators.output.DocumentStats;
import dev.icecache.operators.output.SummaryPiece;
import dev.icecache.operators.state.MapStatePageStore;
import dev.icecache.operators.state.PagePatch;
import dev.icecache.operators.state.PagePatchSerializer;
import dev.icecache.operators.state.PageSerializer;
import dev.icecache.operators.state.DocumentCache;
import dev.icecache.operators.state.StoredPage;
import dev.icecache.operators.tokenize.PromptTokens;
import dev.icecache.operators.tokenize.TokenChunk;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.TimerService;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.operators.StreamingRuntimeContext;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The keyed IceCache decoder (key = document id): a thin adapter that moves one document's
 * {@link DocumentSession} in and out of keyed state around each element.
 *
 * <pre>
 *   token chunk  → prefill it; on the last chunk register a processing-time timer
 *                  (rolling summaries: also when it starts one; while one is decoded, the
 *                  chunk waits in a list state instead, in arrival order)
 *   timer        → decode one slice, emit its text piece, register the next timer;
 *                  at the end emit the final piece with stats and clear all state
 *                  (at the end of a rolling summary: prefill the waiting chunks, in order,
 *                  until one starts the next summary or none is left)
 *   after each   → write the pages and the progress back to state (element boundary)
 *
 *   a document longer than the context ({@link OverflowMode}, {@link DocumentSegments}):
 *   a chunk that does not fit closes the segment (it waits, as during a rolling summary);
 *   the segment summary is decoded in slices; at its end the context restarts inside that
 *   element: pages and cells cleared, a new session over an empty cache starting with what
 *   the segment carries over (refine: the running summary), then the waiting chunks
 * </pre>
 *
 * Live sessions (model scratch and the host copy of their pages) stay in a bounded in-memory
 * working set shared by the subtask's documents; anything evicted or lost in a failure is
 * rebuilt from state on its next element, continuing where the state says without recomputing.
 * Run it through {@link DecoderOperator}, which finishes pending generations at end of input.
 */
public final class IceCacheDecoder extends KeyedProcessFunction<String, TokenChunk, SummaryPiece> {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(IceCacheDecoder.class);

    /** Name of the per-document value state. */
    public static final String DOCUMENT_STATE = "icecache-document";
    /** Name of the per-document KV page map state. */
    public static final String PAGES_STATE = "icecache-pages";
    /** Name of the per-document index cell map state. */
    public static final String CELLS_STATE = "icecache-cells";
    /** Per document: the rows of pages changed since each was stored whole ({@link PagePatch}). */
    public static final String PATCHES_STATE = "icecache-page-patches";
    /** Name of the per-document rolling-summary progress (written only when rolling summaries are on). */
    public static final String ROLLING_STATE = "icecache-rolling";
    /** Name of the per-document list of token chunks that arrived during a rolling summary. */
    public static final String WAITING_CHUNKS_STATE = "icecache-waiting-chunks";
    /** Name of the per-document segment progress (written only for a document read in segments; state v3). */
    public static final String SEGMENTS_STATE = "icecache-segments";

    /** How long a decode slice waits for room before its document asks again (processing time). */
    static final long QUEUE_RETRY_MS = 20;

    private final DecoderSettings settings;

    /** Owned by {@link SharedModels}; acquired in open, released in close. */
    private transient LlamaModel model;
    /** The backend and the forward pass all documents of this subtask share. */
    private transient SubtaskCompute compute;
    private transient TextAssembler text;
    private transient ValueState<StoredDocument> documents;
    private transient MapState<Long, StoredPage> pages;
    private transient MapState<Long, PagePatch> patches;
    private transient MapState<Long, byte[]> cells;
    private transient ValueState<RollingProgress> rolling;
    private transient ListState<TokenChunk> waitingChunks;
    private transient ValueState<SegmentProgress> segmentState;
    /** The prompt's tokens around summaries: its instruction, and a chat's turns. */
    private transient PromptTokens prompt;
    private transient SegmentPlan plan;
    /** True when documents that do not fit the context are read in segments (else they are rejected). */
    private transient boolean segmenting;
    private transient Projection projection;
    private transient CacheConfig cacheConfig;
    /** The live documents, bounded by icecache.memory.budget. */
    private transient DocumentAdmission live;
    private transient int[] sliceBuffer;
    private transient Counter prefilledTokens;
    private transient Counter generatedTokens;
    private transient Counter documentsResumed;
    private transient Counter documentsFinished;
    private transient Counter documentsRejected;
    private transient DecoderGauges gauges;
    private transient int peakLiveDocuments;
    private transient Counter stateBytesWritten;

    /** @param settings the job's settings */
    public IceCacheDecoder(DecoderSettings settings) {
        this.settings = settings;
    }

    @Override
    public void open(OpenContext openContext) {
        model = SharedModels.acquire(settings.modelPath(), settings.contextLength());
        compute = SubtaskCompute.open(model, settings.gpuEnabled(),
                getRuntimeContext().getExternalResourceInfos(AssignedDevice.GPU_RESOURCE),
                getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(), settings.deviceRegion());
        text = new TextAssembler(model.tokenizer()::tokenBytes);
        documents = getRuntimeContext().getState(
                new ValueStateDescriptor<>(DOCUMENT_STATE, TypeInformation.of(StoredDocument.class)));
        pages = getRuntimeContext().getMapState(
                new MapStateDescriptor<>(PAGES_STATE, LongSerializer.INSTANCE, PageSerializer.INSTANCE));
        patches = getRuntimeContext().getMapState(
                new MapStateDescriptor<>(PATCHES_STATE, LongSerializer.INSTANCE, PagePatchSerializer.INSTANCE));
        cells = getRuntimeContext().getMapState(new MapStateDescriptor<>(CELLS_STATE, LongSerializer.INSTANCE,
                BytePrimitiveArraySerializer.INSTANCE));
        rolling = getRuntimeContext().getState(
                new ValueStateDescriptor<>(ROLLING_STATE, TypeInformation.of(RollingProgress.class)));
        waitingChunks = getRuntimeContext().getListState(
                new ListStateDescriptor<>(WAITING_CHUNKS_STATE, TypeInformation.of(TokenChunk.class)));
        segmentState = getRuntimeContext().getState(
                new ValueStateDescriptor<>(SEGMENTS_STATE, TypeInformation.of(SegmentProgress.class)));
        prompt = PromptTokens.of(settings.prompt(), model);
        // NOTE: a chat's turn tokens (at each context's start, after each rolling summary) count as instruction
        plan = SegmentPlan.of(settings.generation(), model.cacheShape().maxTokens(),
                prompt.instruction().length + prompt.turnOverhead());
        segmenting = plan.mode() != OverflowMode.REJECT && plan.feasible();
        if (plan.mode() != OverflowMode.REJECT && !segmenting) {
            LOG.warn("documents longer than the context will be rejected: {}", plan.infeasibleReason());
        }
        projection = DocumentCache.projection(model.config().headDim());
        cacheConfig = settings.cacheConfig();
        long budget = settings.memoryBudgetBytes() > 0 ? settings.memoryBudgetBytes()
                : DocumentAdmission.derivedBudget(Runtime.getRuntime().maxMemory(), taskSlots());
        live = new DocumentAdmission(budget, settings.workingSetDocuments(),
                DocumentAdmission.bytesPerToken(model.cacheShape(), settings.cacheConfig()));
        LOG.info("decoder subtask {}: memory budget {} MiB for live documents ({}), at most {} live documents",
                getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(), budget >> 20,
                settings.memoryBudgetBytes() > 0 ? IceCacheOptions.MEMORY_BUDGET.key()
                        : "derived: half the heap over the task slots", settings.workingSetDocuments());
        if (budget > Runtime.getRuntime().maxMemory() / 10 * 9) {
            LOG.warn("{}={} MiB leaves less than a tenth of the {} MiB heap for everything else; live documents may"
                    + " run out of memory: lower it or raise the TaskManager's heap",
                    IceCacheOptions.MEMORY_BUDGET.key(), budget >> 20, Runtime.getRuntime().maxMemory() >> 20);
        }
        sliceBuffer = new int[settings.generation().sliceTokens()];
        var metrics = getRuntimeContext().getMetricGroup().addGroup("icecache");
        live.registerGauges(metrics, compute.pass()::deviceBytes);
        prefilledTokens = metrics.counter("prefilledTokens");
        generatedTokens = metrics.counter("generatedTokens");
        documentsResumed = metrics.counter("documentsResumed");
        documentsFinished = metrics.counter("documentsFinished");
        documentsRejected = metrics.counter("documentsRejected");
        gauges = DecoderGauges.register(metrics);
        stateBytesWritten = metrics.counter("stateBytesWritten");
    }

    /** The TaskManager's task slots (1 where the runtime does not say). */
    private int taskSlots() {
        if (getRuntimeContext() instanceof StreamingRuntimeContext context) {
            return Math.max(1, context.getTaskManagerRuntimeInfo().getConfiguration()
                    .get(TaskManagerOptions.NUM_TASK_SLOTS));
        }
        return 1;
    }

    @Override
    public void close() {
        if (compute != null) {
            compute.close();
            compute = null;
        }
        if (model != null) {
            SharedModels.release(settings.modelPath(), settings.contextLength());
            model = null;
        }
    }

    @Override
    public void processElement(TokenChunk chunk, Context ctx, Collector<SummaryPiece> out) throws Exception {
        long start = System.nanoTime();
        String docId = ctx.getCurrentKey();
        StoredDocument stored = live.isLive(docId) ? null : documents.value();
        if (stored != null && stored.progress().rejected()) {
            countRejected(docId, stored.progress().promptTokens() + chunk.tokens().length, stored.pieceSeq(),
                    stored.nanos(), chunk, start, out, stored.progress().overBudget());
            return;
        }
        LiveDocument doc = liveDocument(docId, true);
        if (doc.session.summarizing()) {
            waitingChunks.add(chunk); // taken in this order once the rolling summary ends
            return;
        }
        Accepted accepted = accept(docId, doc, chunk, start, out);
        if (!accepted.rejected()) {
            if (accepted.deferred() != null) {
                waitingChunks.add(accepted.deferred()); // the first chunk of the next segment
            }
            startDecodingIfDue(doc, ctx.timerService(), 0);
            writeBack(docId, doc, start, false);
        }
    }

    /**
     * What became of a chunk.
     *
     * @param rejected the document was rejected (its state is then the rejection marker)
     * @param deferred the chunk, or what is left of it, that waits for the next segment (the
     *                 current one was closed, or a rolling summary started); null when none
     */
    private record Accepted(boolean rejected, TokenChunk deferred) {
    }

    /**
     * Prefills one chunk. When it does not fit the context: reading in segments, closes the
     * current segment before it (or before the part of it that does not fit an empty segment);
     * else rejects the document.
     */
    private Accepted accept(String docId, LiveDocument doc, TokenChunk chunk, long start,
                            Collector<SummaryPiece> out) throws Exception {
        // read in segments, a document never outgrows the context, but one context may outgrow the budget
        boolean overContext = !segmenting && doc.session.exceedsContext(chunk.tokens().length);
        if (overContext || doc.bytes + live.estimateGrowth(chunk.tokens().length) > live.budgetBytes()) {
            // the prompt cannot fit (the context, or alone the memory budget): drop what is cached
            // now; later chunks are only counted
            live.remove(docId);
            pages.clear();
            patches.clear();
            cells.clear();
            rolling.clear();
            segmentState.clear();
            countRejected(docId, doc.session.promptTokens() + chunk.tokens().length, doc.pieceSeq, doc.nanos, chunk,
                    start, out, !overContext);
            return new Accepted(true, null);
        }
        // NOTE: page writes are held on the heap until the element ends, within the budget's room:
        // flushed early, a page is read back from RocksDB and written again later in the chunk
        doc.store.limitPendingBytes(live.room(chunk.tokens().length));
        if (segmenting) {
            DocumentSegments.Admission admission = doc.segments.admit(doc.session, chunk);
            if (admission.now() != null) {
                gauges.begin(doc.cache.metrics(), System.nanoTime());
                int prefilled = doc.session.prefill(admission.now().tokens(), admission.now().last());
                gauges.endPrefill(prefilled, System.nanoTime());
                prefilledTokens.inc(prefilled);
                doc.segments.read(admission.now().tokens().length);
            }
            if (admission.later() != null && !doc.session.summarizing()) {
                gauges.begin(doc.cache.metrics(), System.nanoTime());
                int closing = doc.session.closeSegment();
                gauges.endPrefill(closing, System.nanoTime());
                prefilledTokens.inc(closing);
                doc.segments.close();
                LOG.debug("document {} {} after {} document tokens", docId, doc.segments.describe(),
                        doc.session.documentTokens());
            }
            return new Accepted(false, admission.later());
        }
        gauges.begin(doc.cache.metrics(), System.nanoTime());
        int prefilled = doc.session.prefill(chunk.tokens(), chunk.last());
        gauges.endPrefill(prefilled, System.nanoTime());
        prefilledTokens.inc(prefilled);
        return new Accepted(false, null);
    }

    /** Registers the next decode timer, {@code delayMs} from now, when a summary is to be decoded. */
    private static void startDecodingIfDue(LiveDocument doc, TimerService timers, long delayMs) {
        if (doc.session.summarizing() || doc.session.decoding()) {
            timers.registerProcessingTimeTimer(timers.currentProcessingTime() + delayMs);
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<SummaryPiece> out) throws Exception {
        long start = System.nanoTime();
        String docId = ctx.getCurrentKey();
        if (!live.isLive(docId)) {
            StoredDocument stored = documents.value();
            if (stored == null) {
                return; // a timer of a document already finished (at most one per document)
            }
            long need = live.estimate(stored.progress().cacheLength());
            if (need <= live.budgetBytes() && !live.fitsWithoutPreempting(need)) {
                // the live documents have not decoded long enough yet: wait instead of trading places every slice
                live.queue(docId);
                ctx.timerService().registerProcessingTimeTimer(ctx.timerService().currentProcessingTime()
                        + QUEUE_RETRY_MS);
                return;
            }
        }
        LiveDocument doc = liveDocument(docId, false);
        boolean summary = doc.session.summarizing();
        SummaryPiece.Kind kind;
        if (summary) {
            kind = doc.segments.closing() ? SummaryPiece.Kind.SEGMENT : SummaryPiece.Kind.ROLLING;
        } else {
            kind = doc.segments.finalSummary() ? finalKind(doc) : SummaryPiece.Kind.SEGMENT;
        }
        long upTo = settings.generation().rolling() || doc.segments.segmented() ? doc.session.documentTokens() : 0;
        doc.store.limitPendingBytes(live.room(sliceBuffer.length));
        gauges.begin(doc.cache.metrics(), System.nanoTime());
        int n = doc.session.decode(sliceBuffer.length, sliceBuffer);
        gauges.endDecode(n, System.nanoTime());
        generatedTokens.inc(n);
        if (kind == SummaryPiece.Kind.SEGMENT) {
            doc.segments.recordSummary(sliceBuffer, n);
        }
        boolean ended = summary ? !doc.session.summarizing() : doc.session.finished();
        TextAssembler.Piece piece = text.append(doc.pendingText, sliceBuffer, 0, n, ended);
        doc.pendingText = piece.pending();
        if (ended && !summary && kind != SummaryPiece.Kind.SEGMENT) {
            finish(docId, doc, piece.text(), kind, upTo, start, out);
            return;
        }
        if (!piece.text().isEmpty()) {
            out.collect(new SummaryPiece(docId, doc.pieceSeq++, piece.text(), false, DocumentStats.NONE, null, kind,
                    upTo));
        }
        if (ended) {
            LOG.debug("document {} {} summary up to {} tokens ended: generated={}", docId, kind.jsonName(), upTo,
                    doc.session.generated());
            if (kind == SummaryPiece.Kind.SEGMENT) {
                doc = nextContext(docId, doc);
            }
            if (!takeWaitingChunks(docId, doc, start, out)) {
                return; // rejected while taking them
            }
        }
        // NOTE: the next slice is due one millisecond later, not now, so a test clock (and the
        // mailbox) sees one slice per tick instead of a whole generation in one call
        startDecodingIfDue(doc, ctx.timerService(), 1);
        writeBack(docId, doc, start, true);
    }

    /**
     * After a rolling summary: prefills the chunks that waited meanwhile, in arrival order, until
     * one starts the next rolling summary (the rest keep waiting) or none is left.
     *
     * @return false when the document was rejected on the way
     */
    private boolean takeWaitingChunks(String docId, LiveDocument doc, long start, Collector<SummaryPiece> out)
            throws Exception {
        List<TokenChunk> waiting = new ArrayList<>();
        waitingChunks.get().forEach(waiting::add);
        int taken = 0;
        while (taken < waiting.size() && !doc.session.summarizing()) {
            TokenChunk chunk = waiting.get(taken++);
            Accepted accepted = accept(docId, doc, chunk, start, out);
            if (accepted.deferred() != null) {
                waiting.set(--taken, accepted.deferred()); // the segment closed (or a rolling summary began) before it
                break;
            }
            if (accepted.rejected()) {
                // the document is rejected: the rest are only counted, as later chunks would be
                for (TokenChunk rest : waiting.subList(taken, waiting.size())) {
                    StoredDocument marker = documents.value();
                    countRejected(docId, marker.progress().promptTokens() + rest.tokens().length, marker.pieceSeq(),
                            marker.nanos(), rest, start, out, marker.progress().overBudget());
                }
                waitingChunks.clear();
                return false;
            }
        }
        if (taken == waiting.size()) {
            waitingChunks.clear();
        } else {
            waitingChunks.update(new ArrayList<>(waiting.subList(taken, waiting.size())));
        }
        return true;
    }

    /** The last slice of the final summary: emits the last piece with stats and clears all state. */
    private void finish(String docId, LiveDocument doc, String lastText, SummaryPiece.Kind kind, long upTo, long start,
                        Collector<SummaryPiece> out) throws Exception {
        doc.nanos += System.nanoTime() - start;
        DocumentStats stats = doc.stats();
        out.collect(new SummaryPiece(docId, doc.pieceSeq, lastText, true, stats, null, kind, upTo));
        LOG.info("document {} finished: tokens_in={} tokens_out={} pieces={} pages_moved={} resident_hit_rate={}"
                        + " pages_in_state={} peak_resident_pages={} pool_pages={} {} page_writes_through={}"
                        + " seconds={}",
                docId, stats.tokensIn(), stats.tokensOut(), doc.pieceSeq + 1, stats.pagesMoved(),
                stats.residentHitRate(), countPagesInState(), doc.cache.peakResidentPages(),
                doc.cache.poolCapacityPages(), doc.writes, doc.store.writtenThrough(), stats.seconds());
        documentsFinished.inc();
        live.remove(docId);
        documents.clear();
        pages.clear();
        patches.clear();
        cells.clear();
        rolling.clear();
        waitingChunks.clear();
        segmentState.clear();
    }

    /**
     * After a segment or reduce summary: the context restarts. The old cache and its page and
     * cell state are dropped and a new session starts over an empty cache with only what the
     * segments carry over (refine: the running summary); a reduce step's prompt runs at once.
     * Called inside one element, so the state written back after it is consistent.
     */
    private LiveDocument nextContext(String docId, LiveDocument doc) throws Exception {
        int endedPositions = doc.session.progress().cacheLength();
        int endedPages = doc.store.pageCount();
        int[] start = new int[1 + prompt.open().length];
        start[0] = model.vocabulary().bos();
        System.arraycopy(prompt.open(), 0, start, 1, prompt.open().length);
        int[] prefix = doc.segments.nextContext(start, prompt.recap(), prompt.instruction(), doc.cache.pagesMoved());
        live.remove(docId);
        doc.release();
        pages.clear();
        patches.clear();
        cells.clear();
        MapStatePageStore store = new MapStatePageStore(pages, patches, PageLayout.of(model.config().headDim()),
                settings.pageFormat(), 0);
        store.limitPendingBytes(live.room(prefix.length));
        DocumentCache cache = DocumentCache.create(model.cacheShape(), cacheConfig, store, projection);
        DocumentSession session = DocumentSession.startSegment(model, compute.pass(), cache.kvCache(),
                settings.generation(), prompt, docId, prefix, doc.session.promptTokens(),
                doc.session.generated());
        LiveDocument next = new LiveDocument(session, cache, store, doc.segments, doc.pieceSeq, doc.pendingText,
                doc.nanos);
        if (doc.segments.reducing()) {
            gauges.begin(cache.metrics(), System.nanoTime());
            int prefilled = session.prefill(new int[0], true);
            gauges.endPrefill(prefilled, System.nanoTime());
            prefilledTokens.inc(prefilled);
        }
        live.add(docId, next, false, 0);  // a new context: no restore
        LOG.info("document {} context restarted: {} carrying {} tokens, {} document tokens read; the context that"
                        + " ended held positions={} pages_in_state={} peak_resident_pages={} (heap used {} MiB)", docId,
                doc.segments.describe(), prefix.length, session.documentTokens(), endedPositions, endedPages,
                doc.cache.peakResidentPages(),
                (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) >> 20);
        return next;
    }

    /** The kind of a document's final (or only) summary's pieces. */
    private SummaryPiece.Kind finalKind() {
        return settings.generation().rolling() ? SummaryPiece.Kind.FINAL : SummaryPiece.Kind.ONLY;
    }

    /** The kind of the final summary's pieces of {@code doc}: {@link SummaryPiece.Kind#FINAL} after segments. */
    private SummaryPiece.Kind finalKind(LiveDocument doc) {
        return doc.segments.segmented() ? SummaryPiece.Kind.FINAL : finalKind();
    }

    /**
     * A document whose prompt exceeds the context: keeps counting its prompt tokens and, at its
     * last chunk, emits one final piece whose {@code error} says so, then clears its state.
     *
     * @param pieceSeq the seq of the document's next piece (rolling summaries may have come before)
     */
    private void countRejected(String docId, long promptTokens, int pieceSeq, long nanos, TokenChunk chunk, long start,
                               Collector<SummaryPiece> out, boolean overBudget) throws Exception {
        long spent = nanos + System.nanoTime() - start;
        if (!chunk.last()) {
            documents.update(new StoredDocument(overBudget ? DocumentProgress.rejectedOverBudget(promptTokens)
                    : DocumentProgress.rejected(promptTokens), pieceSeq, new byte[0], 0, spent, new byte[0]));
            return;
        }
        int context = model.cacheShape().maxTokens();
        String error = overBudget
                ? "document rejected: its prompt of " + promptTokens + " tokens needs about "
                        + (live.estimate(promptTokens) >> 20) + " MiB of heap while live, more than the "
                        + (live.budgetBytes() >> 20) + " MiB " + IceCacheOptions.MEMORY_BUDGET.key() + " gives a decoder"
                        + " subtask; raise " + IceCacheOptions.MEMORY_BUDGET.key() + " (summarize --memory-budget) and"
                        + " the TaskManager's heap (ICECACHE_HEAP), or split the document"
                : settings.generation().rolling()
                ? "document rejected: its prompt of " + promptTokens + " tokens (BOS and template included) and its"
                        + " rolling summaries need more than the " + context + " positions "
                        + IceCacheOptions.MODEL_CONTEXT.key() + " allows; raise --context, raise --rolling-every or"
                        + " split the document"
                : "document rejected: its prompt has " + promptTokens + " tokens (BOS and template included) but "
                        + IceCacheOptions.MODEL_CONTEXT.key() + " allows " + context + " positions; raise --context"
                        + " (up to the model's training length) or split the document";
        if (plan.mode() != OverflowMode.REJECT) {
            error += "; " + plan.infeasibleReason(); // with overflow on, only documents that cannot be segmented
        }
        out.collect(new SummaryPiece(docId, pieceSeq, "", true, new DocumentStats(promptTokens, 0, 0, 0.0,
                spent / 1e9), error, finalKind(), settings.generation().rolling() ? promptTokens - 1 : 0));
        LOG.warn("document {} rejected: prompt_tokens={} context={} over_memory_budget={}", docId, promptTokens, context,
                overBudget);
        documentsRejected.inc();
        documents.clear();
    }

    /**
     * The document's live session: from the working set, else resumed from state, else new;
     * loading unloads other documents to make room ({@code preempt}: also ones that have not
     * decoded long enough yet).
     */
    private LiveDocument liveDocument(String docId, boolean preempt) throws Exception {
        LiveDocument doc = live.get(docId);
        if (doc != null) {
            return doc;
        }
        StoredDocument stored = documents.value();
        PageLayout layout = PageLayout.of(model.config().headDim());
        long loadStart = System.nanoTime();
        live.makeRoom(live.estimate(stored == null ? 0 : stored.progress().cacheLength()), 1, preempt,
                null);
        if (stored == null) {
            MapStatePageStore store = new MapStatePageStore(pages, patches, layout, settings.pageFormat(), 0);
            DocumentCache cache = DocumentCache.create(model.cacheShape(), cacheConfig, store, projection);
            doc = new LiveDocument(DocumentSession.start(model, compute.pass(), cache.kvCache(), settings.generation(),
                    prompt, docId), cache,
                    store, new DocumentSegments(plan, SegmentProgress.START), 0, new byte[0], 0);
            LOG.info("document {} started: policy={} budget_tokens={}", docId, cacheConfig.policy(),
                    cacheConfig.budgetTokens());
        } else {
            long restoreStart = System.nanoTime();
            MapStatePageStore store = new MapStatePageStore(pages, patches, layout, settings.pageFormat(), stored.pageCount());
            DocumentProgress p = stored.progress();
            DocumentCache cache = DocumentCache.restore(model.cacheShape(), cacheConfig, store, projection,
                    p.cacheLength(), stored.cacheHeader(), cells);
            SegmentProgress segmentProgress = segmentState.value();
            DocumentSegments segments = new DocumentSegments(plan,
                    segmentProgress == null ? SegmentProgress.START : segmentProgress);
            doc = new LiveDocument(DocumentSession.resume(model, compute.pass(), cache.kvCache(), settings.generation(),
                    prompt, docId, p, rolling.value(), segments.closing()),
                    cache, store, segments, stored.pieceSeq(), stored.pendingText(), stored.nanos());
            documentsResumed.inc();
            LOG.info("document {} resumed from state: position={} pages={} decoding={} summarizing={} generated={}"
                    + " {} restore_ms={} (prefill not recomputed)", docId, p.cacheLength(), stored.pageCount(),
                    p.decoding(), doc.session.summarizing(), p.generated(), segments.describe(),
                    (System.nanoTime() - restoreStart) / 1_000_000.0);
        }
        live.add(docId, doc, stored != null, System.nanoTime() - loadStart);
        return doc;
    }

    /** Writes the document back to state at an element boundary; {@code slice}: the element was a decode slice. */
    private void writeBack(String docId, LiveDocument doc, long start, boolean slice) throws Exception {
        byte[] header = doc.cache.writeBack(cells);
        doc.store.flush();
        if (!doc.toldWriteThrough && doc.store.writtenThrough() > 0) {
            doc.toldWriteThrough = true;
            LOG.info("document {}: its page writes outgrew what {} leaves free ({} MiB for this element), so {}"
                    + " page writes went straight to RocksDB and are read back from it, which slows prefill; a"
                    + " larger budget (summarize --memory-budget, or --parallelism 1 for one long document) keeps"
                    + " them on the heap",
                    docId, IceCacheOptions.MEMORY_BUDGET.key(), doc.store.pendingLimit() >> 20,
                    doc.store.writtenThrough());
        }
        doc.nanos += System.nanoTime() - start;
        documents.update(new StoredDocument(doc.session.progress(), doc.pieceSeq, doc.pendingText,
                doc.store.pageCount(), doc.nanos, header));
        // the document value: its header plus about 64 bytes of progress fields and key
        stateBytesWritten.inc(doc.writes.record(slice, doc.store.bytesWritten(), doc.store.wholePageBytesWritten(),
                doc.cache.cellBytesWritten(), header.length + 64L));
        live.refresh(doc, System.nanoTime() - start, doc.session.progress().cacheLength());
        doc.lastUsedNanos = System.nanoTime();
        if (live.liveBytes() > live.budgetBytes()) {
            live.makeRoom(0, 0, true, doc);
        }
        boolean segmented = doc.segments.segmented();
        if (settings.generation().rolling() || segmented) {
            rolling.update(doc.session.rollingProgress());
        }
        if (segmented) {
            segmentState.update(doc.segments.progress());
        }
    }

    /** The most documents this instance held live at once (the working set's high-water mark). */
    int peakLiveDocuments() {
        return live.peakLive();
    }

    /** The live documents and their accounting (for tests). */
    DocumentAdmission admission() {
        return live;
    }

    /** The compute this subtask chose in {@link #open} (for tests: backend and reason). */
    SubtaskCompute compute() {
        return compute;
    }

    /** Entries in the current document's page map state (logged at its end, read once). */
    private long countPagesInState() throws Exception {
        long n = 0;
        for (Long ignored : pages.keys()) {
            n++;
        }
        return n;
    }
}
