package dev.icecache.model.tokenizer;

import java.util.Arrays;

/**
 * The merge loop shared by both BPE variants, as llama.cpp runs it: symbols form a doubly
 * linked list over a char buffer; every adjacent pair that may merge sits in a min-heap keyed
 * by (priority, left symbol index), so the best pair merges first and ties go to the leftmost;
 * after a merge the two new neighbour pairs are queued. Stale heap entries are recognised by
 * their length: a symbol only grows, so a pair whose current length differs from the queued
 * one has changed. O(n log n) in the number of initial symbols.
 *
 * <p>One instance is scratch space for one caller at a time; it grows and is then reused.
 */
final class BigramMerger {

    /** Ranks a pair of adjacent symbols: lower merges first, {@link MergeRanks#NO_MERGE} never. */
    interface PairRanker {
        int rank(char[] text, int start, int leftLength, int length);
    }

    // [symbol] start in the text, length in chars (0 once merged away), list links (-1 = none)
    private int[] start = new int[64];
    private int[] length = new int[64];
    private int[] prev = new int[64];
    private int[] next = new int[64];
    private int symbolCount;
    // heap entries: key = priority << 32 | left symbol index; size = left + right length when queued
    private long[] heapKeys = new long[64];
    private int[] heapSizes = new int[64];
    private int heapSize;

    /**
     * Merges {@code text[from, to)} starting from one symbol per code point (or per char when
     * {@code perChar}) and calls {@code sink} with each final symbol in order.
     */
    void merge(char[] text, int from, int to, boolean perChar, PairRanker ranker, SymbolSink sink) {
        split(text, from, to, perChar);
        heapSize = 0;
        for (int i = 1; i < symbolCount; i++) {
            offer(text, ranker, i - 1, i);
        }
        while (heapSize > 0) {
            long key = heapKeys[0];
            int size = heapSizes[0];
            poll();
            int left = (int) key;
            int right = next[left];
            if (length[left] == 0 || right < 0 || length[right] == 0 || length[left] + length[right] != size) {
                continue;
            }
            length[left] += length[right];
            length[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            if (prev[left] >= 0) {
                offer(text, ranker, prev[left], left);
            }
            if (next[left] >= 0) {
                offer(text, ranker, left, next[left]);
            }
        }
        for (int i = symbolCount == 0 ? -1 : 0; i >= 0; i = next[i]) {
            sink.accept(text, start[i], length[i]);
        }
    }

    /** Receives the final symbols of a merge, in text order. */
    interface SymbolSink {
        void accept(char[] text, int start, int length);
    }

    private void split(char[] text, int from, int to, boolean perChar) {
        ensureSymbols(to - from);
        symbolCount = 0;
        int offset = from;
        while (offset < to) {
            int n = 1;
            if (!perChar && Character.isHighSurrogate(text[offset]) && offset + 1 < to
                    && Character.isLowSurrogate(text[offset + 1])) {
                n = 2;
            }
            int index = symbolCount++;
            start[index] = offset;
            length[index] = n;
            prev[index] = index - 1;
            offset += n;
            next[index] = offset == to ? -1 : index + 1;
        }
    }

    private void offer(char[] text, PairRanker ranker, int left, int right) {
        int size = length[left] + length[right];
        int rank = ranker.rank(text, start[left], length[left], size);
        if (rank == MergeRanks.NO_MERGE) {
            return;
        }
        if (heapSize == heapKeys.length) {
            int capacity = heapKeys.length + (heapKeys.length >> 1);
            heapKeys = Arrays.copyOf(heapKeys, capacity);
            heapSizes = Arrays.copyOf(heapSizes, capacity);
        }
        long key = ((long) rank << 32) | left;
        int i = heapSize++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heapKeys[parent] <= key) {
                break;
            }
            heapKeys[i] = heapKeys[parent];
            heapSizes[i] = heapSizes[parent];
            i = parent;
        }
        heapKeys[i] = key;
        heapSizes[i] = size;
    }

    private void poll() {
        int last = --heapSize;
        long key = heapKeys[last];
        int size = heapSizes[last];
        int i = 0;
        int half = heapSize >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            if (child + 1 < heapSize && heapKeys[child + 1] < heapKeys[child]) {
                child++;
            }
            if (key <= heapKeys[child]) {
                break;
            }
            heapKeys[i] = heapKeys[child];
            heapSizes[i] = heapSizes[child];
            i = child;
        }
        heapKeys[i] = key;
        heapSizes[i] = size;
    }

    private void ensureSymbols(int count) {
        if (start.length < count) {
            int capacity = Math.max(count, start.length + (start.length >> 1));
            start = new int[capacity];
            length = new int[capacity];
            prev = new int[capacity];
            next = new int[capacity];
        }
    }
}
