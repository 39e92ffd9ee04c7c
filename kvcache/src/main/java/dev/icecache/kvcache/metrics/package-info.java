/**
 * Counters of a cache ({@link dev.icecache.kvcache.metrics.CacheMetrics}) and a listener for the
 * positions each attend reduced over ({@link dev.icecache.kvcache.metrics.AttendedPositions}).
 */
package dev.icecache.kvcache.metrics;
