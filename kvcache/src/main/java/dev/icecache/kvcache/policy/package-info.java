/**
 * The policy KV cache: {@link dev.icecache.kvcache.policy.PagedKvCache} implements
 * {@link dev.icecache.kvcache.KvCache} for any {@link dev.icecache.kvcache.policy.Policy} under one
 * budget composition ({@link dev.icecache.kvcache.policy.CacheConfig}), with a bounded resident pool,
 * every page in a store, and snapshots ({@link dev.icecache.kvcache.policy.CacheSnapshot}).
 */
package dev.icecache.kvcache.policy;
