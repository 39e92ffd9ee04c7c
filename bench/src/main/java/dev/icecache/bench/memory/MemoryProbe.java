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
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.kvcache.select.IceCacheSelector;
import dev.icecache.kvcache.tree.Projection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * One memory measurement, run in its own JVM by {@link MemoryCommand} so that the process RSS
 * belongs to this cache alone: builds one cache of the 1B attention shape, fills it to a context
 * with synthetic rows, and prints one line
 * {@code probe <cache> <context> <liveHeap> <rss> <rssAnon> <rssFile> <direct> <mapped> <rankingKeys>
 * <nodeMetadata> <denseRows> <pool> <storeBytes>}; heap and RSS are the growth over the same
 * readings taken before the cache was built (the JVM's own baseline is not the document's).
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

    private MemoryProbe() {
    }

    public static void main(String[] args) {
        int status = 2;
        try {
            int context = Integer.parseInt(args[1]);
            System.out.println(probe(Cache.valueOf(args[0]), context, Integer.parseInt(args[2]),
                    new CacheShape(Integer.parseInt(args[3]), Integer.parseInt(args[4]), Integer.parseInt(args[5]),
                            Integer.parseInt(args[6]), context + 1), PageFormat.valueOf(args[7]), Store.valueOf(args[8]),
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
                cache = new PagedKvCache(shape, CacheConfig.of(Policy.ICECACHE, budget).withPageFormat(format), store,
                        new Projection(shape.headDim(), new SplittableRandom(1L)));
            }
            int attendFrom = cache instanceof PagedKvCache p ? p.config().denseLayers() : shape.nLayers();
            new SyntheticContext(shape, 1L).fill(cache, context, attendFrom, null);
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
            return "probe " + kind + " " + context + " " + live + " " + rss + " " + anon + " " + rssFile + " " + direct
                    + " " + mapped + " " + keys + " " + meta + " " + dense + " " + pool + " " + storeBytes;
        } catch (IOException e) {
            throw new UncheckedIOException("memory probe cannot use " + dir + ": " + e.getMessage(), e);
        } finally {
            if (store != null) {
                store.close();
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
}
