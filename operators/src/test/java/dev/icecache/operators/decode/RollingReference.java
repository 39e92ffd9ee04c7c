package dev.icecache.operators.decode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.icecache.kvcache.KvCache;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.Sampler;
import dev.icecache.model.Session;
import dev.icecache.operators.tokenize.PromptTokens;

/**
 * What rolling summaries must produce, computed with the engine alone: one {@link Session}
 * over the cache, one prefill call per segment, greedy sample/step loops. A segment is the
 * token not yet fed back from the previous summary (BOS for the first), the document tokens
 * up to the first chunk boundary at or after the next multiple of {@code every}, then the
 * instruction; the last segment ends with the last chunk and is followed by the final summary.
 */
final class RollingReference {

    /**
     * One summary as the engine produced it.
     *
     * @param upTo document tokens read before it
     * @param rolling true for a rolling summary, false for the final one
     * @param tokens the tokens generated
     */
    record Summary(long upTo, boolean rolling, int[] tokens) {
    }

    private RollingReference() {
    }

    /**
     * @param chunkSizes the document's chunk sizes in order (the last one is the last chunk)
     * @param document the concatenated chunk tokens
     */
    static List<Summary> run(LlamaModel model, KvCache cache, int[] document, int[] chunkSizes, int every,
                             int[] instruction, int rollingMax, int finalMax) {
        return run(model, cache, document, chunkSizes, every, PromptTokens.plain(instruction), rollingMax, finalMax);
    }

    /**
     * As above with a prompt's turn tokens: the instruction is {@code prompt.instruction()}, a
     * summary ends where {@code prompt} says, and {@code prompt.resume()} follows each rolling summary.
     */
    static List<Summary> run(LlamaModel model, KvCache cache, int[] document, int[] chunkSizes, int every,
                             PromptTokens prompt, int rollingMax, int finalMax) {
        int[] instruction = prompt.instruction();
        int[] types = model.vocabulary().tokenTypes();
        Session s = model.newSession(cache);
        Sampler greedy = new Sampler(0f, 1f, 0);
        int eos = model.vocabulary().eos();
        List<Summary> out = new ArrayList<>();
        int[] carry = {model.vocabulary().bos()};
        int segmentStart = 0;
        int read = 0;
        long next = every;
        for (int c = 0; c < chunkSizes.length; c++) {
            read += chunkSizes[c];
            boolean last = c == chunkSizes.length - 1;
            if (!last && read < next) {
                continue;
            }
            int[] segment = concat(carry, Arrays.copyOfRange(document, segmentStart, read),
                    last ? new int[0] : instruction);
            float[] logits = s.prefill(segment, 0, segment.length, true);
            int limit = last ? finalMax : rollingMax;
            int[] tokens = new int[limit];
            int n = 0;
            carry = new int[0];
            while (n < limit) {
                int t = greedy.sample(logits);
                if (prompt.ends(t, eos, types)) {
                    break;
                }
                tokens[n++] = t;
                if (n < limit) {
                    logits = s.step(t);
                } else {
                    carry = new int[] {t};
                }
            }
            carry = concat(carry, prompt.resume());
            out.add(new Summary(read, !last, Arrays.copyOf(tokens, n)));
            segmentStart = read;
            next = ((long) read / every + 1) * every;
        }
        return out;
    }

    static int[] concat(int[]... parts) {
        return DocumentSegments.concat(parts);
    }
}
