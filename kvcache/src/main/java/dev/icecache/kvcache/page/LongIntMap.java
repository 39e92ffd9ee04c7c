package dev.icecache.kvcache.page;

import dev.icecache.kvcache.Checks;
import java.util.Arrays;

/**
 * Open-addressing map from {@code long} to {@code int} in flat arrays (Agrona style, style.md
 * rule 6): power-of-two capacity indexed with a mask, linear probing, backward-shift deletion
 * (no tombstones), growth by doubling at load factor 1/2. {@link #MISSING} stands for "absent"
 * and cannot be stored.
 */
public final class LongIntMap {

    /** Value returned by {@link #get} for an absent key; {@link #put} refuses it. */
    public static final int MISSING = Integer.MIN_VALUE;

    private long[] keys;   // [capacity]
    private int[] values;  // [capacity], MISSING where the cell is empty
    private int size;

    /** An empty map sized for about {@code expected} entries. */
    public LongIntMap(int expected) {
        Checks.checkArgument(expected >= 0 && expected <= 1 << 29, "expected=%d must be in [0, 2^29]", expected);
        int cap = Integer.highestOneBit(Math.max(8, expected * 2 - 1)) << 1;
        keys = new long[cap];
        values = new int[cap];
        Arrays.fill(values, MISSING);
    }

    /** Entries stored. */
    public int size() {
        return size;
    }

    /** The value of {@code key}, or {@link #MISSING}. */
    public int get(long key) {
        final long[] ks = keys;
        final int[] vs = values;
        final int mask = ks.length - 1;
        for (int i = hash(key) & mask; ; i = (i + 1) & mask) {
            if (vs[i] == MISSING) {
                return MISSING;
            }
            if (ks[i] == key) {
                return vs[i];
            }
        }
    }

    /** Stores {@code value} under {@code key}; returns the previous value or {@link #MISSING}. */
    public int put(long key, int value) {
        if (value == MISSING) {
            throw new IllegalArgumentException("cannot store MISSING as a value");
        }
        final int mask = keys.length - 1;
        int i = hash(key) & mask;
        while (values[i] != MISSING) {
            if (keys[i] == key) {
                int old = values[i];
                values[i] = value;
                return old;
            }
            i = (i + 1) & mask;
        }
        keys[i] = key;
        values[i] = value;
        if (++size * 2 > keys.length) {
            rehash(keys.length * 2);
        }
        return MISSING;
    }

    /** Removes {@code key}; returns its value or {@link #MISSING}. */
    public int remove(long key) {
        final int mask = keys.length - 1;
        int i = hash(key) & mask;
        while (values[i] != MISSING) {
            if (keys[i] == key) {
                int old = values[i];
                values[i] = MISSING;
                size--;
                compactChain(i);
                return old;
            }
            i = (i + 1) & mask;
        }
        return MISSING;
    }

    /** Removes every entry, keeping the capacity. */
    public void clear() {
        Arrays.fill(values, MISSING);
        size = 0;
    }

    /** Calls {@code visitor} for every entry, in table order. */
    public void forEach(Visitor visitor) {
        for (int i = 0; i < keys.length; i++) {
            if (values[i] != MISSING) {
                visitor.accept(keys[i], values[i]);
            }
        }
    }

    /** Receives one entry of {@link #forEach}. */
    @FunctionalInterface
    public interface Visitor {
        /** One entry. */
        void accept(long key, int value);
    }

    private void compactChain(int deleted) {
        final int mask = keys.length - 1;
        int hole = deleted;
        for (int i = (deleted + 1) & mask; values[i] != MISSING; i = (i + 1) & mask) {
            int home = hash(keys[i]) & mask;
            // move the entry back into the hole when its home is not cyclically in (hole, i]
            if (((i - home) & mask) >= ((i - hole) & mask)) {
                keys[hole] = keys[i];
                values[hole] = values[i];
                values[i] = MISSING;
                hole = i;
            }
        }
    }

    private void rehash(int capacity) {
        Checks.checkState(capacity > 0, "LongIntMap max capacity reached: size=%d", size);
        long[] oldKeys = keys;
        int[] oldValues = values;
        keys = new long[capacity];
        values = new int[capacity];
        Arrays.fill(values, MISSING);
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldValues[i] != MISSING) {
                put(oldKeys[i], oldValues[i]);
            }
        }
    }

    private static int hash(long key) {
        long h = key * 0x9e37_79b9_7f4a_7c15L;
        return (int) (h ^ (h >>> 32));
    }
}
