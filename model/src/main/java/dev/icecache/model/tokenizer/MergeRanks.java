package dev.icecache.model.tokenizer;

import java.util.Arrays;
import java.util.List;

/**
 * The rank of a BPE merge looked up by the two adjacent symbols it joins, given as one char
 * range and the length of its left part, so that no string is built per lookup. Merges are
 * ranked by their position in the list (0 merges first); a repeated merge keeps its first
 * rank, as llama.cpp's {@code bpe_ranks} does.
 */
final class MergeRanks {

    /** Returned by {@link #rank} when the two symbols never merge. */
    static final int NO_MERGE = Integer.MAX_VALUE;
    private static final int EMPTY = -1;

    // [merge index] the concatenated text and where its left part ends
    private final String[] joined;
    private final int[] leftLength;
    // [slot] merge index (= rank) or EMPTY; power-of-two capacity, at most half full
    private final int[] slots;
    private final int mask;

    /**
     * @param merges merges in priority order, each written {@code "left right"}; the first space
     *               after the first character separates the parts, as in llama.cpp
     * @throws IllegalArgumentException naming the first merge without a separating space
     */
    MergeRanks(List<String> merges) {
        int count = merges.size();
        this.joined = new String[count];
        this.leftLength = new int[count];
        int capacity = Integer.highestOneBit(Math.max(8, count) * 2 - 1) << 1;
        this.slots = new int[capacity];
        this.mask = capacity - 1;
        Arrays.fill(slots, EMPTY);
        for (int rank = 0; rank < count; rank++) {
            String merge = merges.get(rank);
            int space = merge == null ? -1 : merge.indexOf(' ', 1);
            if (space < 0) {
                throw new IllegalArgumentException("BPE merge " + rank + " '" + merge
                        + "' has no space between its two parts; the vocabulary's merges are corrupt");
            }
            joined[rank] = merge.substring(0, space) + merge.substring(space + 1);
            leftLength[rank] = space;
            insert(rank);
        }
    }

    private void insert(int rank) {
        String text = joined[rank];
        int slot = hash(PieceTable.hash(text, 0, text.length()), leftLength[rank]) & mask;
        while (slots[slot] != EMPTY) {
            int other = slots[slot];
            if (leftLength[other] == leftLength[rank] && joined[other].equals(text)) {
                return;
            }
            slot = (slot + 1) & mask;
        }
        slots[slot] = rank;
    }

    /**
     * The rank of merging {@code text[start, start + left)} with
     * {@code text[start + left, start + length)}, or {@link #NO_MERGE}.
     */
    int rank(char[] text, int start, int left, int length) {
        int slot = hash(PieceTable.hash(text, start, length), left) & mask;
        while (true) {
            int rank = slots[slot];
            if (rank == EMPTY) {
                return NO_MERGE;
            }
            if (leftLength[rank] == left && PieceTable.matches(joined[rank], text, start, length)) {
                return rank;
            }
            slot = (slot + 1) & mask;
        }
    }

    private static int hash(int textHash, int left) {
        return PieceTable.mix(textHash + left * 0x61C88647);
    }
}
