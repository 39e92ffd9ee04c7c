package dev.icecache.job.inspect;

import java.util.Map;

import dev.icecache.kvcache.page.PageKey;
import dev.icecache.operators.decode.DocumentProgress;
import dev.icecache.operators.decode.IceCacheDecoder;
import dev.icecache.operators.decode.SegmentProgress;
import dev.icecache.operators.decode.StoredDocument;
import dev.icecache.operators.state.PagePatch;
import dev.icecache.operators.state.PagePatchSerializer;
import dev.icecache.operators.state.PageSerializer;
import dev.icecache.operators.state.StoredPage;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer;
import org.apache.flink.state.api.functions.KeyedStateReaderFunction;
import org.apache.flink.util.Collector;

/**
 * Summarizes one document's keyed state of the IceCache decoder: it declares the decoder's
 * three states with the decoder's own names and serializers, so a savepoint restores into them
 * as into the running job.
 */
final class DecoderStateReader extends KeyedStateReaderFunction<String, DocumentState> {

    private static final long serialVersionUID = 1L;
    /** Serialized size of a page besides its values: validRows, headDim and format code (PageSerializer v2). */
    private static final int PAGE_PREFIX_BYTES = 2 * Integer.BYTES + 1;

    private transient ValueState<StoredDocument> documents;
    private transient MapState<Long, StoredPage> pages;
    private transient MapState<Long, PagePatch> patches;
    private transient MapState<Long, byte[]> cells;
    private transient ValueState<SegmentProgress> segments;

    @Override
    public void open(OpenContext openContext) {
        documents = getRuntimeContext().getState(new ValueStateDescriptor<>(IceCacheDecoder.DOCUMENT_STATE,
                TypeInformation.of(StoredDocument.class)));
        pages = getRuntimeContext().getMapState(new MapStateDescriptor<>(IceCacheDecoder.PAGES_STATE,
                LongSerializer.INSTANCE, PageSerializer.INSTANCE));
        patches = getRuntimeContext().getMapState(new MapStateDescriptor<>(IceCacheDecoder.PATCHES_STATE,
                LongSerializer.INSTANCE, PagePatchSerializer.INSTANCE));
        cells = getRuntimeContext().getMapState(new MapStateDescriptor<>(IceCacheDecoder.CELLS_STATE,
                LongSerializer.INSTANCE, BytePrimitiveArraySerializer.INSTANCE));
        segments = getRuntimeContext().getState(new ValueStateDescriptor<>(IceCacheDecoder.SEGMENTS_STATE,
                TypeInformation.of(SegmentProgress.class)));
    }

    @Override
    public void readKey(String docId, Context ctx, Collector<DocumentState> out) throws Exception {
        long pageCount = 0;
        long pageBytes = 0;
        long pageRows = 0;
        for (StoredPage page : pages.values()) {
            pageCount++;
            pageBytes += PAGE_PREFIX_BYTES + (long) page.rows().length * page.format().bytesPerFloat();
            pageRows += page.validRows();
        }
        long patchCount = 0;
        long patchBytes = 0;
        for (Map.Entry<Long, PagePatch> e : patches.entries()) {
            // the page as read has the patch's row count
            PagePatch patch = e.getValue();
            StoredPage page = pages.get(e.getKey());
            int hd = patch.rows().headDim();
            int grown = patch.validRows() - (page == null ? 0 : page.validRows());
            patchCount++;
            patchBytes += 2 * Integer.BYTES + PAGE_PREFIX_BYTES
                    + (long) patch.rows().rows().length * patch.rows().format().bytesPerFloat();
            pageBytes += 2L * grown * hd * patch.rows().format().bytesPerFloat();
            pageRows += grown;
        }
        long cellCount = 0;
        long cellBytes = 0;
        long trees = 0;
        long nodes = 0;
        long[] levels = new long[TreeCells.MAX_LEVELS];
        for (Map.Entry<Long, byte[]> e : cells.entries()) {
            byte[] bytes = e.getValue();
            cellCount++;
            cellBytes += bytes.length;
            int cellId = PageKey.pageId(e.getKey());
            int kind = TreeCells.kind(cellId);
            if (kind == TreeCells.HEADER) {
                trees++;
            } else if (kind == TreeCells.NODE_CHUNK) {
                nodes += TreeCells.addLevels(bytes, levels, "layer=" + PageKey.layer(e.getKey()) + " kvHead="
                        + PageKey.kvHead(e.getKey()) + " cell=" + cellId + " of document " + docId);
            }
        }
        StoredDocument stored = documents.value();
        if (stored == null) {
            out.collect(new DocumentState(docId, "unknown", 0, 0, 0, 0, 0, 0, pageCount, pageBytes, pageRows, patchCount, patchBytes, 0,
                    cellCount, cellBytes, trees, nodes, levels, ""));
            return;
        }
        DocumentProgress p = stored.progress();
        SegmentProgress segment = segments.value();
        String phase = p.rejected() ? "rejected" : p.finished() ? "done" : p.decoding() ? "decode" : "prefill";
        out.collect(new DocumentState(docId, phase, p.cacheLength(), p.promptTokens(), p.heldTokens().length,
                p.generated(), stored.pieceSeq(), stored.pageCount(), pageCount, pageBytes, pageRows,
                patchCount, patchBytes, stored.cacheHeader() == null ? 0 : stored.cacheHeader().length, cellCount, cellBytes, trees, nodes,
                levels, segment == null ? "" : segment.describe()));
    }
}
