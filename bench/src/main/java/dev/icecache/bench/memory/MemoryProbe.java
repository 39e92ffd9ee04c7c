package dev.icecache.bench.memory;

import dev.icecache.bench.speed.SyntheticContext;
import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.FullCache;
import dev.icecache.kvcache.KvCache;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.MappedFilePageStore;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.page.PageStore;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.CacheSnapshot;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.kvcache.select.IceCacheSelector;
import dev.icecache.kvcache.tree.Projection;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One memory measurement, run in its own JVM by {@link MemoryCommand} so that the process RSS
 * belongs to this cache alone: builds one cache of the 1B attention shape, fills it to a context
 * with synthetic rows, and prints one line
 * {@code probe <cache> <context> <liveHeap> <rss> <rssAnon> <rssFile> <direct> <mapped> <rankingKeys>
 * <nodeMetadata> <denseRows> <pool> <storeBytes> <chunkStateBytes> <sliceStateBytes> <sliceChangedBytes> <restoreNanos>
 * <restoreBytesRead> <cellBytes>}; heap and RSS are the growth over the same readings taken before the cache
 * was built (the JVM's own baseline is not the document's).
 *
 * <p>IceCache only (-1 for Full): the cache is filled to one chunk short and snapshotted as the
 * job does at an element's end, then the last chunk of {@link SyntheticContext#CHUNK} positions is
 * prefilled and snapshotted ({@code chunkStateBytes}: pages written while prefilling it and by its
 * snapshot, plus header and index cells); the memory readings follow; then one
 * decode slice of {@link #SLICE} positions and its snapshot ({@code sliceStateBytes}; of which
 * {@code sliceChangedBytes} changed: page rows whose bytes differ from what the store held, and the
 * bytes of new cells); then a
 * restore from the snapshots' latest cells into a new cache ({@code restoreNanos}, and
 * {@code restoreBytesRead}: cells, header and pages read from the store; {@code cellBytes}: the
 * latest bytes of every index cell plus the header, the state besides the pages).
 *
 * <pre>
 *   cache FULL_F32   FullCache: every row of every layer on the heap, float32
 *   cache ICECACHE   PagedKvCache, IceCache at the budget, rows in the page format; the slow tier
 *                    (every page) in a MappedFilePageStore file out of the heap, as the job keeps
 *                    it in RocksDB; or on the heap (InMemoryPageStore) with store HEAP
 *   args: cache context budget layers heads kvHeads headDim pageFormat store(MAPPED|HEAP) dir
 * </pre>
 */
public final class MemoryProbe {

    /** What a probe measures. */
    enum Cache { FULL_F32, ICECACHE }

    /** Where an IceCache probe keeps its pages. */
    enum Store { MAPPED, HEAP }

    /** Positions of the decode slice whose state writes are measured (the decoder's slice). */
    static final int SLICE = 16;

    private MemoryProbe() {
    }

    public static void main(String[] args) {
        int status = 2;
        try {
            int context = Integer.parseInt(args[1]);
            System.out.println(probe(Cache.valueOf(args[0]), context, Integer.parseInt(args[2]),
                    new CacheShape(Integer.parseInt(args[3]), Integer.parseInt(args[4]), Integer.parseInt(args[5]),
                            Integer.parseInt(args[6]), context + SLICE + 1), PageFormat.valueOf(args[7]), Store.valueOf(args[8]),
                    Path.of(args[9])));
            status = 0;
        } catch (RuntimeException | OutOfMemoryError e) {
            System.err.println("memory probe failed: " + e);
        }
        System.exit(status);
    }

    /** Fills one cache and returns the probe line; a mapped store's file goes in {@code dir} and is deleted. */
    static String probe(Cache kind, int context, int budget, CacheShape shape, PageFormat format, Store storeKind,
                        Path dir) {
        long heap0 = ProcessMemory.liveHeapBytes();
        long rss0 = ProcessMemory.rssBytes();
        long anon0 = ProcessMemory.rssAnonBytes();
        long file0 = ProcessMemory.rssFileBytes();
        Path file = null;
        PageStore store = null;
        KvCache cache;
        Path cellFile = dir.resolve("cells-" + ProcessHandle.current().pid());
        try {
            if (kind == Cache.FULL_F32) {
                cache = new FullCache(shape);
            } else {
                PageLayout layout = PageLayout.of(shape.headDim());
                if (storeKind == Store.MAPPED) {
                    file = Files.createTempFile(dir, "memory-probe-", ".pages");
                    store = new MappedFilePageStore(file, layout, format);
                } else {
                    store = new InMemoryPageStore(layout, format);
                }
                store = new CountingPageStore(store);
                cache = new PagedKvCache(shape, config(budget, format), store, projection(shape));
            }
            int attendFrom = cache instanceof PagedKvCache p ? p.config().denseLayers() : shape.nLayers();
            SyntheticContext rows = new SyntheticContext(shape, 1L);
            long chunkState = -1;
            if (cache instanceof PagedKvCache p) {
                // all but the last chunk, a snapshot (an element boundary), then the last chunk
                // alone: what it writes to the store while prefilling plus its snapshot
                int lastChunk = Math.max(0, context - SyntheticContext.CHUNK);
                rows.fill(cache, lastChunk, attendFrom, null);
                snapshotTo(p, (CountingPageStore) store, cellFile);
                ((CountingPageStore) store).reset();
                rows.fill(cache, context, attendFrom, null);
                chunkState = snapshotTo(p, (CountingPageStore) store, cellFile);
            } else {
                rows.fill(cache, context, attendFrom, null);
            }
            long keys = 0;
            long meta = 0;
            long dense;
            long pool = 0;
            if (cache instanceof PagedKvCache p) {
                if (p.selector() instanceof IceCacheSelector s) {
                    for (int l = p.config().denseLayers(); l < shape.nLayers(); l++) {
                        for (int h = 0; h < shape.nKvHeads(); h++) {
                            long[] b = s.tree(l, h).heapBytes();
                            keys += b[0];
                            meta += b[1];
                        }
                    }
                }
                dense = p.denseRowBytes();
                pool = p.poolBytes();
            } else {
                dense = 2L * 4 * shape.nLayers() * shape.kvDim() * context;
            }
            long live = ProcessMemory.liveHeapBytes() - heap0;
            long rss = ProcessMemory.rssBytes() - rss0;
            long anon = ProcessMemory.rssAnonBytes() - anon0;
            long rssFile = ProcessMemory.rssFileBytes() - file0;
            long direct = ProcessMemory.bufferPoolBytes("direct");
            long mapped = ProcessMemory.bufferPoolBytes("mapped");
            long storeBytes = file != null ? Files.size(file) : 0;
            if (cache.length() != context) { // keeps the cache reachable until every reading is taken
                throw new IllegalStateException("cache holds " + cache.length() + " positions, expected " + context);
            }
            String line = "probe " + kind + " " + context + " " + live + " " + rss + " " + anon + " " + rssFile + " "
                    + direct + " " + mapped + " " + keys + " " + meta + " " + dense + " " + pool + " " + storeBytes + " "
                    + chunkState;
            if (!(cache instanceof PagedKvCache p)) {
                return line + " -1 -1 -1 -1 -1";
            }
            CountingPageStore counting = (CountingPageStore) store;
            counting.reset();
            counting.compare = true;
            decodeSlice(p, rows, context);
            long sliceStart = Files.exists(cellFile) ? Files.size(cellFile) : 0;
            long sliceState = snapshotTo(p, counting, cellFile);
            long slicePages = counting.bytesChanged();
            counting.compare = false;
            byte[] header = lastHeader;
            cache = null; // the restore below builds a second cache: let the first go
            p = null;
            long[] changedCells = new long[1];
            Map<Long, byte[]> cells = readCells(cellFile, sliceStart, changedCells);
            long sliceChanged = slicePages + changedCells[0];
            long cellBytes = header.length;
            for (byte[] b : cells.values()) {
                cellBytes += b.length;
            }
            counting.reset();
            long t0 = System.nanoTime();
            PagedKvCache restored = PagedKvCache.restore(shape, config(budget, format), counting, projection(shape),
                    header, (l, h, c) -> cells.get(cellKey(l, h, c)));
            long restoreNanos = System.nanoTime() - t0;
            if (restored.length() != context + SLICE) {
                throw new IllegalStateException("restored cache holds " + restored.length() + " positions");
            }
            return line + " " + sliceState + " " + sliceChanged + " " + restoreNanos + " " + (cellBytes + counting.bytesRead) + " " + cellBytes;
        } catch (IOException e) {
            throw new UncheckedIOException("memory probe cannot use " + dir + ": " + e.getMessage(), e);
        } finally {
            if (store != null) {
                store.close();
            }
            try {
                Files.deleteIfExists(cellFile);
            } catch (IOException ignored) {
                // in the probe's own folder, which the command deletes too
            }
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // a temp file in the probe's own folder; the command deletes the folder too
                }
            }
        }
    }

    private static CacheConfig config(int budget, PageFormat format) {
        return CacheConfig.of(Policy.ICECACHE, budget).withPageFormat(format);
    }

    private static Projection projection(CacheShape shape) {
        return new Projection(shape.headDim(), new SplittableRandom(1L));
    }

    /** Header of the latest {@link #snapshotTo}. */
    private static byte[] lastHeader;

    /**
     * Snapshots the cache, appends its cells to {@code cellFile} and returns the state bytes of the
     * element: pages the store counted since its last reset (written while the element ran and by
     * the snapshot; rows in the page format), header and cells.
     */
    private static long snapshotTo(PagedKvCache cache, CountingPageStore store, Path cellFile) throws IOException {
        CacheSnapshot snap = cache.snapshot();
        long bytes = store.bytesWritten + snap.header().length;
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(cellFile,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND), 1 << 16))) {
            for (int i = 0; i < snap.cellCount(); i++) {
                byte[] b = snap.cellBytes()[i];
                bytes += b.length;
                out.writeLong(cellKey(snap.cellLayer()[i], snap.cellHead()[i], snap.cellId()[i]));
                out.writeInt(b.length);
                out.write(b);
            }
        }
        lastHeader = snap.header();
        return bytes;
    }

    /**
     * The latest bytes of every cell in the file (a later entry of a cell replaces an earlier one);
     * {@code changed[0]} = bytes of the entries from offset {@code from} on that differ from the
     * cell's earlier bytes (byte by byte, plus any growth), all of a cell first written there.
     */
    private static Map<Long, byte[]> readCells(Path cellFile, long from, long[] changed) throws IOException {
        Map<Long, byte[]> cells = new HashMap<>();
        long at = 0;
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(cellFile), 1 << 16))) {
            while (true) {
                long key;
                try {
                    key = in.readLong();
                } catch (EOFException end) {
                    return cells;
                }
                byte[] b = new byte[in.readInt()];
                in.readFully(b);
                byte[] before = cells.put(key, b);
                if (at >= from) {
                    changed[0] += before == null ? b.length : differingBytes(before, b);
                }
                at += 12 + b.length;
            }
        }
    }

    private static long differingBytes(byte[] a, byte[] b) {
        long n = Math.abs(a.length - b.length);
        for (int i = 0; i < Math.min(a.length, b.length); i++) {
            if (a[i] != b[i]) {
                n++;
            }
        }
        return n;
    }

    private static long cellKey(int layer, int kvHead, int cell) {
        return ((long) layer << 48) | ((long) kvHead << 32) | (cell & 0xffffffffL);
    }

    /** One decode slice: {@link #SLICE} positions after {@code from}, each appended and attended on every layer. */
    private static void decodeSlice(PagedKvCache cache, SyntheticContext rows, int from) {
        CacheShape shape = cache.shape();
        float[] k = new float[shape.kvDim()];
        float[] v = new float[shape.kvDim()];
        float[] q = new float[shape.qDim()];
        float[] out = new float[shape.qDim()];
        for (int p = from; p < from + SLICE; p++) {
            for (int layer = 0; layer < shape.nLayers(); layer++) {
                rows.rows(layer, p, 1, k, v);
                cache.append(layer, p, k, 0, v, 0);
                rows.query(layer, p, q);
                cache.attend(layer, p, q, 0, out, 0);
            }
        }
    }
}
