package dev.icecache.model;

import dev.icecache.kvcache.KvCache;

/**
 * The Llama forward pass of one model on one compute backend, with its own activation buffers:
 * runs a batch of consecutive positions (one position = a decode step, many = a prefill chunk),
 * appending their K and V to a {@link KvCache} and attending through it.
 *
 * <p>One thread at a time. Several {@link Session}s may share one pass (a Flink subtask decodes
 * its documents one after another), because a session reads the returned logits before its next
 * call; the logits belong to the pass and the next {@link #forward} overwrites them.
 */
public interface ForwardPass extends AutoCloseable {

    /** The model whose weights this pass runs. */
    LlamaModel model();

    /** The most positions one {@link #forward} call accepts. */
    int maxBatch();

    /**
     * Runs {@code tokens[off .. off+n)} at positions {@code position ..}: per layer the batch's
     * post-RoPE K and V are appended to {@code cache}, then each position attends causally.
     * Token ids and n are checked by the caller ({@link Session}).
     *
     * @param wantLogits whether to compute the logits of the last position
     * @return the logits of the last position (vocabulary size floats, owned by this pass), or
     *         null when not wanted
     */
    float[] forward(KvCache cache, int[] tokens, int off, int n, int position, boolean wantLogits);

    /**
     * The logits of row {@code row} (0 .. n-1) of the last {@link #forward} call into {@code out}
     * (vocabulary size floats), computed now from that position's final hidden state, as though it
     * had been the last. For measuring every position of a prefill chunk (bench fidelity); a backend
     * that keeps only the last position's state says so.
     *
     * @throws UnsupportedOperationException where the backend cannot
     */
    default void rowLogits(int row, float[] out) {
        throw new UnsupportedOperationException("this compute backend keeps only the last position's logits;"
                + " measure every position on the CPU backend");
    }

    /**
     * Bytes of device memory the documents attending through this pass hold now (their resident
     * pages, current chunk and dense rows on the device); 0 on the CPU.
     */
    default long deviceBytes() {
        return 0;
    }

    /** Frees what the pass holds on its device (nothing on the CPU). */
    @Override
    void close();
}
