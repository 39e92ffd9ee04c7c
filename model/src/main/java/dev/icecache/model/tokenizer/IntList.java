package dev.icecache.model.tokenizer;

import java.util.Arrays;

/** A growable list of primitive ints (grows by 1.5x); not thread-safe. */
final class IntList {

    private int[] values;
    private int size;

    IntList(int initialCapacity) {
        values = new int[Math.max(4, initialCapacity)];
    }

    void add(int value) {
        if (size == values.length) {
            grow(size + 1);
        }
        values[size++] = value;
    }

    int get(int index) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException("index=" + index + " size=" + size);
        }
        return values[index];
    }

    int size() {
        return size;
    }

    void clear() {
        size = 0;
    }

    int[] toArray() {
        return Arrays.copyOf(values, size);
    }

    private void grow(int minCapacity) {
        long wanted = Math.max(minCapacity, values.length + (values.length >> 1));
        if (wanted > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("IntList max capacity reached: size=" + size);
        }
        values = Arrays.copyOf(values, (int) wanted);
    }
}
