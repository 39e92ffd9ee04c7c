package dev.icecache.kvcache.tree;

import java.util.Arrays;

/**
 * A max-heap of (score, id) pairs on two primitive arrays: higher score first, ties to the lower
 * id, so every walk over it is deterministic. Add everything, {@link #heapify()} once, then
 * {@link #pop()}; capacity grows and is then reused, so steady-state use allocates nothing.
 */
final class ScoredHeap {

    private float[] score = new float[64];
    private int[] id = new int[64];
    private int size;

    void clear() {
        size = 0;
    }

    int size() {
        return size;
    }

    /** Adds a pair without restoring heap order; call {@link #heapify()} before popping. */
    void add(float s, int i) {
        if (size == score.length) {
            score = Arrays.copyOf(score, size * 2);
            id = Arrays.copyOf(id, size * 2);
        }
        score[size] = s;
        id[size] = i;
        size++;
    }

    void heapify() {
        for (int i = size / 2 - 1; i >= 0; i--) {
            siftDown(i);
        }
    }

    /** The best score left (valid before {@link #pop()}). */
    float topScore() {
        return score[0];
    }

    /** Removes the best pair and returns its id. */
    int pop() {
        int best = id[0];
        size--;
        score[0] = score[size];
        id[0] = id[size];
        siftDown(0);
        return best;
    }

    private void siftDown(int i) {
        while (true) {
            int c = 2 * i + 1;
            if (c >= size) {
                return;
            }
            if (c + 1 < size && better(c + 1, c)) {
                c++;
            }
            if (!better(c, i)) {
                return;
            }
            float ts = score[i];
            score[i] = score[c];
            score[c] = ts;
            int ti = id[i];
            id[i] = id[c];
            id[c] = ti;
            i = c;
        }
    }

    private boolean better(int a, int b) {
        int c = Float.compare(score[a], score[b]);
        return c > 0 || (c == 0 && id[a] < id[b]);
    }
}
