package dev.icecache.kvcache.select;

import java.util.Arrays;

/**
 * A growable log of (token -&gt; page, slot) assignments in struct-of-arrays form, drained in the
 * order made. Positional indexes use it to report the pages they form.
 */
final class MoveLog {

    private int[] token = new int[64];
    private int[] fromPage = new int[64];
    private int[] fromSlot = new int[64];
    private int[] toPage = new int[64];
    private int[] toSlot = new int[64];
    private int size;

    int size() {
        return size;
    }

    void append(int tok, int fPage, int fSlot, int tPage, int tSlot) {
        if (size == token.length) {
            int cap = Math.multiplyExact(size, 2);
            token = Arrays.copyOf(token, cap);
            fromPage = Arrays.copyOf(fromPage, cap);
            fromSlot = Arrays.copyOf(fromSlot, cap);
            toPage = Arrays.copyOf(toPage, cap);
            toSlot = Arrays.copyOf(toSlot, cap);
        }
        token[size] = tok;
        fromPage[size] = fPage;
        fromSlot[size] = fSlot;
        toPage[size] = tPage;
        toSlot[size] = tSlot;
        size++;
    }

    void drain(int[] tok, int[] fPage, int[] fSlot, int[] tPage, int[] tSlot) {
        System.arraycopy(token, 0, tok, 0, size);
        System.arraycopy(fromPage, 0, fPage, 0, size);
        System.arraycopy(fromSlot, 0, fSlot, 0, size);
        System.arraycopy(toPage, 0, tPage, 0, size);
        System.arraycopy(toSlot, 0, tSlot, 0, size);
        size = 0;
    }
}
