package dev.icecache.model.tokenizer;

/**
 * Finds a token id by the text of a char range without building a string: an open-addressing
 * hash table over the pieces, probed linearly. When two tokens share a piece the later id
 * wins, as in llama.cpp's {@code token_to_id}.
 */
final class PieceTable {

    private static final int EMPTY = -1;

    private final String[] pieces;
    // [slot] token id or EMPTY; capacity is a power of two, at most half full
    private final int[] slots;
    private final int mask;

    /**
     * @param pieces the piece of every token id
     * @param included which token ids take part (others are never found)
     */
    PieceTable(String[] pieces, boolean[] included) {
        this.pieces = pieces;
        int capacity = Integer.highestOneBit(Math.max(8, pieces.length) * 2 - 1) << 1;
        this.slots = new int[capacity];
        this.mask = capacity - 1;
        java.util.Arrays.fill(slots, EMPTY);
        for (int id = 0; id < pieces.length; id++) {
            if (!included[id]) {
                continue;
            }
            String piece = pieces[id];
            int slot = hash(piece, 0, piece.length()) & mask;
            while (slots[slot] != EMPTY && !pieces[slots[slot]].equals(piece)) {
                slot = (slot + 1) & mask;
            }
            slots[slot] = id;
        }
    }

    /** The token whose piece equals {@code text[start, start + length)}, or -1. */
    int find(char[] text, int start, int length) {
        int slot = hash(text, start, length) & mask;
        while (true) {
            int id = slots[slot];
            if (id == EMPTY) {
                return -1;
            }
            if (matches(pieces[id], text, start, length)) {
                return id;
            }
            slot = (slot + 1) & mask;
        }
    }

    /** The token whose piece equals {@code text}, or -1. */
    int find(String text) {
        char[] chars = text.toCharArray();
        return find(chars, 0, chars.length);
    }

    static boolean matches(String piece, char[] text, int start, int length) {
        if (piece.length() != length) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if (piece.charAt(i) != text[start + i]) {
                return false;
            }
        }
        return true;
    }

    static int hash(String s, int start, int length) {
        int h = 0;
        for (int i = 0; i < length; i++) {
            h = 31 * h + s.charAt(start + i);
        }
        return mix(h);
    }

    static int hash(char[] s, int start, int length) {
        int h = 0;
        for (int i = 0; i < length; i++) {
            h = 31 * h + s[start + i];
        }
        return mix(h);
    }

    /** Spreads the polynomial hash so that masking keeps well-mixed low bits. */
    static int mix(int h) {
        h *= 0x9E3779B9;
        return h ^ (h >>> 16);
    }
}
