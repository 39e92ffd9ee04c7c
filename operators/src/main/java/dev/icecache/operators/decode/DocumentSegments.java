package dev.icecache.operators.decode;

import java.util.Arrays;

import dev.icecache.operators.decode.SegmentProgress.Phase;
import dev.icecache.operators.tokenize.TokenChunk;

/**
 * One document's way through its segments (see {@link SegmentPlan} and {@link SegmentProgress}):
 * which chunk joins the current segment, which summary is being decoded, and what the next
 * context starts with. Independent of Flink and of the model run; the decoder restarts the
 * context (a fresh cache over emptied page state) when {@link #nextContext} says so. Not
 * thread-safe.
 */
final class DocumentSegments {

    /**
     * How a chunk enters the current segment.
     *
     * @param now the part to prefill now, or null
     * @param later the part that waits for the next segment, or null
     */
    record Admission(TokenChunk now, TokenChunk later) {
    }

    private final SegmentPlan plan;
    private int segment;
    private Phase phase;
    private long segmentText;
    private int[] summary;
    private int summaryLength;
    private int[] done;
    private int[] doneLengths;
    private int[] pending;
    private int[] pendingLengths;
    private int level;
    private boolean finalStep;
    private long pagesMovedBefore;

    DocumentSegments(SegmentPlan plan, SegmentProgress p) {
        this.plan = plan;
        this.segment = p.segment();
        this.phase = p.phase();
        this.segmentText = p.segmentText();
        this.summary = p.summary().clone();
        this.summaryLength = summary.length;
        this.done = p.done().clone();
        this.doneLengths = p.doneLengths().clone();
        this.pending = p.pending().clone();
        this.pendingLengths = p.pendingLengths().clone();
        this.level = p.level();
        this.finalStep = p.finalStep();
        this.pagesMovedBefore = p.pagesMovedBefore();
    }

    /** The state to store now. */
    SegmentProgress progress() {
        return new SegmentProgress(segment, phase, segmentText, Arrays.copyOf(summary, summaryLength), done.clone(),
                doneLengths.clone(), pending.clone(), pendingLengths.clone(), level, finalStep, pagesMovedBefore);
    }

    /** True once the document left its first context or is closing it: it has segment state to store. */
    boolean segmented() {
        return segment > 0 || phase != Phase.READING;
    }

    /** True while the summary closing a segment is decoded. */
    boolean closing() {
        return phase == Phase.CLOSING;
    }

    /** Contexts used so far, the current one included; 0 for a document read in one context. */
    int contexts() {
        return segmented() ? segment + 1 : 0;
    }

    /** Pages moved in earlier contexts. */
    long pagesMovedBefore() {
        return pagesMovedBefore;
    }

    /** Where the document stands, for logs: see {@link SegmentProgress#describe()}. */
    String describe() {
        return progress().describe();
    }

    /**
     * True when the generation after the last chunk (not a summary that closes a segment) is the
     * document's final summary; false in map-reduce for the last segment's own summary and for
     * reduce steps that are not the last.
     */
    boolean finalSummary() {
        if (plan.mode() != OverflowMode.MAP_REDUCE) {
            return true;
        }
        return phase == Phase.REDUCING ? finalStep : segment == 0;
    }

    /**
     * How {@code chunk} enters the current segment of {@code session}: whole when it fits, else
     * nothing (the segment is closed before it) or, in an empty segment, its head.
     */
    Admission admit(DocumentSession session, TokenChunk chunk) {
        int n = chunk.tokens().length;
        boolean rolling = session.startsRollingSummary(n, chunk.last());
        if (plan.fits(session.positionsNeeded(n), segmentText, n, chunk.last(), rolling)) {
            return new Admission(chunk, null);
        }
        if (segmentText > 0) {
            return new Admission(null, chunk);
        }
        int head = Math.min(n - 1, plan.room(session.positionsNeeded(0)));
        if (head < 1) {
            return new Admission(null, chunk); // NOTE: unreachable with a feasible plan; closing moves on anyway
        }
        int[] t = chunk.tokens();
        return new Admission(new TokenChunk(chunk.docId(), chunk.seq(), Arrays.copyOf(t, head), false),
                new TokenChunk(chunk.docId(), chunk.seq(), Arrays.copyOfRange(t, head, n), chunk.last()));
    }

    /** Counts document tokens prefilled into the current segment. */
    void read(int tokens) {
        segmentText += tokens;
    }

    /** The segment is closed: its summary is decoded next. */
    void close() {
        phase = Phase.CLOSING;
        summaryLength = 0;
    }

    /** Appends generated tokens of the summary being decoded (a segment or reduce summary). */
    void recordSummary(int[] tokens, int n) {
        if (summaryLength + n > summary.length) {
            summary = Arrays.copyOf(summary, Math.max(summaryLength + n, 2 * summary.length + 16));
        }
        System.arraycopy(tokens, 0, summary, summaryLength, n);
        summaryLength += n;
    }

    /**
     * A segment or reduce summary ended: the tokens the next context starts with, held before
     * its first prefill. Refine: start, recap, the new running summary; map-reduce: start
     * alone after a segment, or start, the next group of summaries and the instruction for a
     * reduce step (which then runs at once as a complete prompt: {@link #reducing()}).
     *
     * @param start what every context starts with: BOS (and a chat's opening turn)
     * @param recap what precedes a running summary (the instruction without a chat's turn end)
     * @param instruction what follows the summaries of a reduce step
     * @param pagesMoved pages moved by the context that ends (statistics)
     */
    int[] nextContext(int[] start, int[] recap, int[] instruction, long pagesMoved) {
        pagesMovedBefore += pagesMoved;
        int[] ended = Arrays.copyOf(summary, summaryLength);
        summaryLength = 0;
        segment++;
        segmentText = 0;
        if (phase == Phase.CLOSING && plan.mode() == OverflowMode.REFINE) {
            phase = Phase.READING;
            return concat(start, recap, ended);
        }
        append(ended);
        if (phase == Phase.CLOSING) {
            phase = Phase.READING;
            return start.clone();
        }
        if (phase == Phase.READING) {
            level = 0; // the last segment's own summary: the reduction starts
        }
        phase = Phase.REDUCING;
        return concat(start, nextGroup(), instruction);
    }

    /** True while map-reduce reads summaries of summaries (the context's prompt is complete at its start). */
    boolean reducing() {
        return phase == Phase.REDUCING;
    }

    /** Takes the next group of summaries to reduce, moving to the next level when this one is read. */
    private int[] nextGroup() {
        while (true) {
            if (pendingLengths.length == 0) {
                pending = done;
                pendingLengths = doneLengths;
                done = new int[0];
                doneLengths = new int[0];
                level++;
            }
            int count = 0;
            long total = 0;
            while (count < pendingLengths.length && (count == 0
                    || total + pendingLengths[count] <= plan.reduceCapacity())) {
                total += pendingLengths[count++];
            }
            boolean rest = count == pendingLengths.length;
            if (rest && doneLengths.length == 0) {
                finalStep = true;
            } else if (rest && count == 1) {
                // a lone summary left at the end of a level goes up as it is
                done = concat(done, pending);
                doneLengths = concat(doneLengths, pendingLengths);
                pending = new int[0];
                pendingLengths = new int[0];
                continue;
            }
            int[] group = Arrays.copyOf(pending, (int) total);
            pending = Arrays.copyOfRange(pending, (int) total, pending.length);
            pendingLengths = Arrays.copyOfRange(pendingLengths, count, pendingLengths.length);
            return group;
        }
    }

    private void append(int[] ended) {
        done = concat(done, ended);
        doneLengths = concat(doneLengths, new int[] {ended.length});
    }

    /** The arrays one after the other. */
    static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) {
            n += p.length;
        }
        int[] all = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }
}
