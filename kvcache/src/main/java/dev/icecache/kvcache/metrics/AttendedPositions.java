package dev.icecache.kvcache.metrics;

/**
 * Receives the positions one sparse attend reduced over, per KV head, in increasing order: what
 * the fidelity benchmark needs for attention recall and top-k token recall
 * ({@code ../shared/design/evaluation.md}). Called synchronously; the array is reused after the
 * call returns, so copy what you keep.
 */
@FunctionalInterface
public interface AttendedPositions {

    /**
     * @param layer the sparse layer
     * @param kvHead the KV head whose query heads attended these rows
     * @param position the query position
     * @param positions attended positions, {@code positions[0..count)} ascending
     * @param count how many
     */
    void accept(int layer, int kvHead, int position, int[] positions, int count);
}
