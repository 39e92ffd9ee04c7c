/**
 * Attention over a sparse set of rows (sink, selected pages, window, chunk) with the numerics of
 * {@link dev.icecache.kvcache.HeadAttention}, so attending to everything equals the full cache bit for bit.
 */
package dev.icecache.kvcache.attention;
