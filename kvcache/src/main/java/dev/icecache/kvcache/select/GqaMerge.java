package dev.icecache.kvcache.select;

import java.util.Arrays;

/**
 * Merges the ranked page lists of the query heads that share a KV head, rank by rank
 * (icecache.md "Selecting pages", step 4): head0 rank0, head1 rank0, ..., head0 rank1, ...,
 * keeping the first {@code maxPages} distinct ids. Duplicate detection uses a stamp per id, so a
 * merge costs O(total list length) and allocates only when ids grow past every earlier id.
 * Public so the fidelity benchmark's page oracles merge exactly as the selectors do.
 */
public final class GqaMerge {

    private int[] stamp = new int[64]; // [id] generation in which the id was last taken
    private int generation;

    /**
     * @param lists per head ranked ids: head h's list at {@code lists[h*stride ..]}, {@code counts[h]} long
     * @return the number of ids written to {@code out}
     */
    public int merge(int[] lists, int stride, int[] counts, int heads, int maxPages, int[] out) {
        return merge(lists, stride, counts, heads, maxPages, out, 0, 0);
    }

    /**
     * The same merge, except that ids below {@code limitedBelow} are taken at most {@code limitedMax}
     * times (later ones are skipped as if absent): IceCache's recent pages keep at most half the slots.
     */
    public int merge(int[] lists, int stride, int[] counts, int heads, int maxPages, int[] out, int limitedBelow,
                     int limitedMax) {
        if (++generation == Integer.MAX_VALUE) {
            Arrays.fill(stamp, 0);
            generation = 1;
        }
        int written = 0;
        int limited = 0;
        int longest = 0;
        for (int h = 0; h < heads; h++) {
            longest = Math.max(longest, counts[h]);
        }
        for (int rank = 0; rank < longest && written < maxPages; rank++) {
            for (int h = 0; h < heads && written < maxPages; h++) {
                if (rank < counts[h]) {
                    int id = lists[h * stride + rank];
                    if (id >= stamp.length) {
                        stamp = Arrays.copyOf(stamp, Math.max(id + 1, stamp.length * 2));
                    }
                    if (stamp[id] != generation && (id >= limitedBelow || limited < limitedMax)) {
                        stamp[id] = generation;
                        out[written++] = id;
                        limited += id < limitedBelow ? 1 : 0;
                    }
                }
            }
        }
        return written;
    }
}
