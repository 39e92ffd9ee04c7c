package dev.icecache.operators.decode;

import dev.icecache.operators.config.IceCacheOptions;

/**
 * How a document longer than the context is cut into segments: the arithmetic of positions,
 * independent of Flink and of the model run.
 *
 * <pre>
 *   refine segment k:     BOS [instruction running-summary(&lt;= S)] segment-text... instruction summary(&lt;= S)
 *   map-reduce segment:   BOS segment-text... instruction summary(&lt;= S)
 *   map-reduce reduce:    BOS summary summary ... instruction summary(&lt;= S)
 *   last segment:         BOS [...] segment-text... (its last chunk ends with the instruction) final summary(&lt;= S)
 * </pre>
 *
 * A chunk joins the current segment when, after it, the context still has room for the
 * instruction and a summary of S = {@code maxTokens} (and, with rolling summaries, for a rolling
 * summary the chunk may start); otherwise the segment is closed before it. A chunk that does not
 * fit even an empty segment is split. S is {@code --max-tokens} for every summary.
 *
 * @param mode what happens to a document that does not fit
 * @param context positions of one context (the cache's capacity)
 * @param instructionTokens the instruction's length (the prompt template's suffix on its own)
 * @param summaryTokens S: the most tokens of any segment, reduce or final summary
 * @param rollingReserve positions a rolling summary may take (its instruction and tokens), 0 when off
 * @param segmentTokens most document tokens per segment as set, 0 = as many as fit
 */
public record SegmentPlan(OverflowMode mode, int context, int instructionTokens, int summaryTokens, int rollingReserve,
                          int segmentTokens) {

    /** The plan for {@code settings} on a context of {@code context} positions. */
    public static SegmentPlan of(GenerationSettings settings, int context, int instructionTokens) {
        int rolling = settings.rolling() ? instructionTokens + settings.rollingMaxTokens() : 0;
        return new SegmentPlan(settings.overflow(), context, instructionTokens, settings.maxTokens(), rolling,
                settings.segmentTokens());
    }

    /** The most positions a segment's start takes before its text: BOS, and in refine the running summary. */
    public int largestPrefix() {
        return mode == OverflowMode.REFINE ? 1 + instructionTokens + summaryTokens : 1;
    }

    /** Positions kept free after a segment's text so that it can be closed: the instruction and a summary. */
    public int closingReserve() {
        return instructionTokens + summaryTokens;
    }

    /** Document tokens a segment holds at least (with the largest prefix), before any set limit. */
    public long derivedSegmentTokens() {
        return (long) context - largestPrefix() - rollingReserve - closingReserve();
    }

    /** The most summary tokens one reduce step reads (map-reduce): a context less BOS, instruction and summary. */
    public long reduceCapacity() {
        return (long) context - 1 - instructionTokens - summaryTokens;
    }

    /**
     * True when documents can be read in segments: every segment holds at least one token (and
     * as many as a summary has, so that reading moves on), and in map-reduce a reduce step reads
     * at least two summaries (so that the reduction ends).
     */
    public boolean feasible() {
        boolean segments = derivedSegmentTokens() >= Math.max(1, summaryTokens);
        return mode == OverflowMode.MAP_REDUCE ? segments && reduceCapacity() >= 2L * summaryTokens : segments;
    }

    /** Why {@link #feasible()} is false, as the end of a user's error line. */
    public String infeasibleReason() {
        return "it cannot be read in segments either: " + IceCacheOptions.MODEL_CONTEXT.key() + " " + context
                + " leaves " + Math.max(0, derivedSegmentTokens()) + " positions per segment beside the instruction ("
                + instructionTokens + " tokens) and summaries of --max-tokens " + summaryTokens
                + (rollingReserve > 0 ? " and a rolling summary (" + rollingReserve + ")" : "")
                + "; lower --max-tokens (at most about a third of the context) or raise --context";
    }

    /**
     * True when a chunk joins the current segment.
     *
     * @param positionsNeeded positions taken once the chunk is in ({@link DocumentSession#positionsNeeded})
     * @param segmentText document tokens already in the segment, the chunk excluded
     * @param chunkTokens the chunk's tokens
     * @param last whether it is the document's last chunk (its tokens end with the instruction)
     * @param startsRolling whether the chunk starts a rolling summary
     */
    public boolean fits(long positionsNeeded, long segmentText, int chunkTokens, boolean last,
                        boolean startsRolling) {
        long reserve = (startsRolling ? rollingReserve : 0) + (last ? summaryTokens : closingReserve());
        return positionsNeeded + reserve <= context
                && (segmentTokens == 0 || segmentText + chunkTokens <= segmentTokens);
    }

    /**
     * How many tokens of a chunk an empty segment takes when the whole chunk does not fit (the
     * head of a split chunk, never its last token); at least 1 when the plan is feasible.
     *
     * @param positionsTaken positions the segment's start takes (its prefix)
     */
    public int room(long positionsTaken) {
        long room = context - positionsTaken - rollingReserve - closingReserve();
        if (segmentTokens > 0) {
            room = Math.min(room, segmentTokens);
        }
        return (int) Math.max(0, room);
    }
}
