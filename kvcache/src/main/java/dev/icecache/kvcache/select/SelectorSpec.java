package dev.icecache.kvcache.select;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.Checks;
import dev.icecache.kvcache.tree.DciParams;
import dev.icecache.kvcache.tree.Projection;

/**
 * What every selector is built from.
 *
 * @param shape the cache shape (layers, heads, headDim)
 * @param firstSparseLayer layers below it are dense and never select (icecache.md "Dense layers")
 * @param firstIndexedToken the first position that can leave the window (= sink tokens);
 *                          positional page j holds positions firstIndexedToken + rowsPerPage*j ..
 * @param rowsPerPage rows of one page (16)
 * @param treeParams DCI tree parameters (IceCache policies)
 * @param projection the shared projection direction (IceCache policies)
 * @param reuseLayers IceCache(r): how many following layers reuse a layer's selection (2), else 0
 */
public record SelectorSpec(CacheShape shape, int firstSparseLayer, int firstIndexedToken, int rowsPerPage,
                           DciParams treeParams, Projection projection, int reuseLayers) {

    public SelectorSpec {
        Checks.checkArgument(shape != null, "shape must not be null");
        Checks.checkArgument(firstSparseLayer >= 0, "firstSparseLayer=%d must be >= 0", firstSparseLayer);
        Checks.checkArgument(firstIndexedToken >= 0, "firstIndexedToken=%d must be >= 0", firstIndexedToken);
        Checks.checkArgument(rowsPerPage > 0, "rowsPerPage=%d must be > 0", rowsPerPage);
        Checks.checkArgument(reuseLayers >= 0, "reuseLayers=%d must be >= 0", reuseLayers);
    }

    /** Streams (layer, kvHead) of the whole cache, dense layers included. */
    public int streams() {
        return shape.nLayers() * shape.nKvHeads();
    }

    /** Index of a stream in per-stream arrays. */
    public int stream(int layer, int kvHead) {
        Checks.checkIndex(layer, shape.nLayers());
        Checks.checkIndex(kvHead, shape.nKvHeads());
        return layer * shape.nKvHeads() + kvHead;
    }
}
