package dev.icecache.kvcache.select;

import java.util.Arrays;

/**
 * The k best (id, score) pairs of a stream of offers, in a bounded binary heap whose root is the
 * worst kept pair. Ties prefer the smaller id, so results are deterministic. Allocates only when
 * k grows past every earlier k.
 */
final class TopK {

    private int[] ids = new int[16];
    private float[] scores = new float[16];
    private int size;
    private int k;

    /** Starts a new selection of at most {@code k} pairs. */
    void reset(int k) {
        this.k = k;
        size = 0;
        if (ids.length < k) {
            ids = Arrays.copyOf(ids, k);
            scores = Arrays.copyOf(scores, k);
        }
    }

    void offer(int id, float score) {
        if (k == 0) {
            return;
        }
        if (size < k) {
            ids[size] = id;
            scores[size] = score;
            siftUp(size++);
        } else if (better(id, score, ids[0], scores[0])) {
            ids[0] = id;
            scores[0] = score;
            siftDown(0);
        }
    }

    /** Writes the kept ids best first into {@code out}; returns their number and empties the heap. */
    int drainBestFirst(int[] out, int outOff) {
        int n = size;
        for (int i = n - 1; i >= 0; i--) {
            out[outOff + i] = ids[0];
            size--;
            ids[0] = ids[size];
            scores[0] = scores[size];
            siftDown(0);
        }
        return n;
    }

    private static boolean better(int idA, float a, int idB, float b) {
        return a > b || (a == b && idA < idB);
    }

    private void siftUp(int i) {
        while (i > 0) {
            int p = (i - 1) >>> 1;
            if (!better(ids[p], scores[p], ids[i], scores[i])) {
                return;
            }
            swap(i, p);
            i = p;
        }
    }

    private void siftDown(int i) {
        while (true) {
            int l = 2 * i + 1;
            if (l >= size) {
                return;
            }
            int worst = l;
            int r = l + 1;
            if (r < size && better(ids[l], scores[l], ids[r], scores[r])) {
                worst = r;
            }
            if (!better(ids[i], scores[i], ids[worst], scores[worst])) {
                return;
            }
            swap(i, worst);
            i = worst;
        }
    }

    private void swap(int a, int b) {
        int ti = ids[a];
        ids[a] = ids[b];
        ids[b] = ti;
        float ts = scores[a];
        scores[a] = scores[b];
        scores[b] = ts;
    }
}
