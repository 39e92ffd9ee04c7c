package dev.icecache.kvcache.page;

/**
 * A page's identity, (layer, KV head, page id), packed into one {@code long} so stores and the
 * pool can key primitive maps without boxing.
 *
 * <pre>
 *   bit 63..48  layer   (0..65535)
 *   bit 47..32  kvHead  (0..65535)
 *   bit 31..0   pageId  (any int; ids of one (layer, kvHead) are chosen by the cache)
 * </pre>
 */
public final class PageKey {

    private PageKey() {
    }

    /** Packs the three parts; fails naming the part out of range. */
    public static long of(int layer, int kvHead, int pageId) {
        if (layer < 0 || layer > 0xffff) {
            throw new IllegalArgumentException(String.format("layer=%d must be in [0, 65535]", layer));
        }
        if (kvHead < 0 || kvHead > 0xffff) {
            throw new IllegalArgumentException(String.format("kvHead=%d must be in [0, 65535]", kvHead));
        }
        return ((long) layer << 48) | ((long) kvHead << 32) | (pageId & 0xffff_ffffL);
    }

    /** The layer of a packed key. */
    public static int layer(long key) {
        return (int) (key >>> 48);
    }

    /** The KV head of a packed key. */
    public static int kvHead(long key) {
        return (int) (key >>> 32) & 0xffff;
    }

    /** The page id of a packed key. */
    public static int pageId(long key) {
        return (int) key;
    }
}
