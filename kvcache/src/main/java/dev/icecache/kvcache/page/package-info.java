/**
 * Pages and tiers: where K/V rows live. A page is the K rows then the V rows of up to 16
 * positions of one (layer, KV head) with a valid-row count ({@link dev.icecache.kvcache.page.PageLayout},
 * the only offset arithmetic); {@link dev.icecache.kvcache.page.PagePool} is the resident tier of fixed
 * capacity; {@link dev.icecache.kvcache.page.PageStore} is the slow tier (in memory, memory-mapped
 * file, and the Flink operator's RocksDB store), holding F32 or BF16
 * ({@link dev.icecache.kvcache.page.PageFormat}). Nothing here decides which page is needed.
 */
package dev.icecache.kvcache.page;
