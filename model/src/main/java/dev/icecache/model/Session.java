package dev.icecache.model;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.KvCache;

/**
 * One sequence being run through a {@link LlamaModel}: its KV cache, its position and the
 * {@link ForwardPass} that computes it (its own CPU pass, or one shared with other sessions of
 * the same thread). Not thread-safe; many sessions may share one model from different threads.
 */
public final class Session {

    /**
     * Positions per forward pass in {@link #prefill} (system property {@code icecache.prefill.batch}).
     *
     * <p>NOTE: 128, not 32 (issue 13, tenth session): each pass reads every weight once, widens the
     * dense layers' rows once and makes one page selection per sparse layer and KV head, so a 64k
     * document's time to summary fell from 0.33 to 0.27 of llama.cpp's. A pass attends its own
     * positions in full, so IceCache's top-1 at every position rose or held at every budget (bench
     * fidelity; the largest drop in any policy's cell, 0.1 point).
     */
    public static final int PREFILL_BATCH = Math.max(1, Integer.getInteger("icecache.prefill.batch", 128));

    private final LlamaModel model;
    private final KvCache cache;
    private final ForwardPass pass;
    private final int[] oneToken = new int[1]; // the token of a decode step
    private int position;

    Session(LlamaModel model, KvCache cache, ForwardPass pass) {
        CacheShape want = model.cacheShape();
        CacheShape got = cache.shape();
        if (got.nLayers() != want.nLayers() || got.nHeads() != want.nHeads() || got.nKvHeads() != want.nKvHeads()
                || got.headDim() != want.headDim()) {
            throw new IllegalArgumentException("cache shape " + got + " does not fit the model's " + want
                    + "; build the cache from model.cacheShape()");
        }
        if (pass.model() != model) {
            throw new IllegalArgumentException("forward pass of model '" + pass.model().config().name()
                    + "' cannot run a session of model '" + model.config().name()
                    + "'; create the pass with backend.newForwardPass(model, ...)");
        }
        if (pass.maxBatch() < PREFILL_BATCH) {
            throw new IllegalArgumentException("forward pass maxBatch=" + pass.maxBatch() + " is below the prefill batch "
                    + PREFILL_BATCH + "; create it with maxBatch Session.PREFILL_BATCH");
        }
        this.model = model;
        this.cache = cache;
        this.pass = pass;
        this.position = cache.length();
    }

    /** The next position to be filled (tokens run so far, including any the cache already held). */
    public int position() {
        return position;
    }

    /** The KV cache this session appends to. */
    public KvCache cache() {
        return cache;
    }

    /**
     * Runs {@code tokens[off .. off+len)} at the next positions, in batches of
     * {@link #PREFILL_BATCH} (matrix products batched, attention per position).
     *
     * @param wantLogits whether to return the logits after the last token
     * @return the logits of the last token (vocabulary size floats, owned by the forward pass and
     *         overwritten by its next call), or null when not wanted or len is 0
     * @throws IllegalArgumentException when a token id is outside the vocabulary or the
     *         sequence would exceed the cache's maximum length
     */
    public float[] prefill(int[] tokens, int off, int len, boolean wantLogits) {
        return run(tokens, off, len, wantLogits, null);
    }

    /**
     * {@link #prefill} that also gives every position's logits: {@code every[i]} (vocabulary size
     * floats) for the token at {@code tokens[off + i]}, each computed from that position's final
     * hidden state as though it were the last ({@link ForwardPass#rowLogits}). The forward passes,
     * the cache and a sparse policy's selections are prefill's own: for measuring every position of
     * a prefill (bench fidelity), at the cost of one classifier product per position.
     *
     * @throws UnsupportedOperationException where the backend keeps only the last position
     */
    public void prefillEveryLogits(int[] tokens, int off, int len, float[][] every) {
        if (every.length < len) {
            throw new IllegalArgumentException("every holds " + every.length + " rows for " + len + " positions");
        }
        run(tokens, off, len, false, every);
    }

    private float[] run(int[] tokens, int off, int len, boolean wantLogits, float[][] every) {
        if (off < 0 || len < 0 || (long) off + len > tokens.length) {
            throw new IndexOutOfBoundsException("off=" + off + " len=" + len + " tokens.length=" + tokens.length);
        }
        int vocab = model.config().vocabSize();
        for (int i = off; i < off + len; i++) {
            if (tokens[i] < 0 || tokens[i] >= vocab) {
                throw new IllegalArgumentException("token id=" + tokens[i] + " at index " + i
                        + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
        int max = cache.shape().maxTokens();
        if ((long) position + len > max) {
            throw new IllegalArgumentException("position=" + position + " + " + len + " tokens exceeds the context length="
                    + max + "; raise --context or shorten the input");
        }
        float[] logits = null;
        for (int done = 0; done < len; ) {
            int n = Math.min(PREFILL_BATCH, len - done);
            boolean last = done + n == len;
            logits = pass.forward(cache, tokens, off + done, n, position, wantLogits && last);
            for (int t = 0; every != null && t < n; t++) {
                pass.rowLogits(t, every[done + t]);
            }
            position += n;
            done += n;
        }
        return wantLogits ? logits : null;
    }

    /** Runs one token at the next position and returns its logits (owned by the forward pass). */
    public float[] step(int token) {
        int[] one = oneToken;
        one[0] = token;
        return prefill(one, 0, 1, true);
    }
}
