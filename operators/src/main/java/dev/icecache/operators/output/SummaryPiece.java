package dev.icecache.operators.output;

/**
 * One piece of generated text for a document, as the sink writes it. Pieces of a document
 * have {@code seq} 0, 1, 2, ...; concatenating the texts of the pieces of one summary (same
 * {@code kind} and {@code upTo}) gives that whole summary.
 *
 * <p>Without rolling summaries a document has one summary, whose pieces are {@link Kind#ONLY}.
 * With them, a document's pieces are those of its rolling summaries in order ({@link
 * Kind#ROLLING}, {@code upTo} growing), then those of its final summary ({@link Kind#FINAL}),
 * whose last piece alone has {@code last} set. A document longer than the context, read in
 * segments, has {@link Kind#SEGMENT} pieces (its intermediate summaries) before its final ones.
 *
 * @param docId the document's id
 * @param seq 0, 1, 2, ... within the document
 * @param text the characters produced by this piece (complete UTF-8 characters only)
 * @param last true on the document's final piece, the only one whose {@code stats} count
 * @param stats figures for the whole document; {@link DocumentStats#NONE} unless {@code last}
 * @param error on a final piece only, else null: why the document was rejected (no text then), or
 *              why it ended early (idle timeout, a malformed record, the input ended before its
 *              final chunk) beside the summary of what had arrived
 * @param kind which summary this piece belongs to
 * @param upTo document tokens (template included, BOS excluded) the summary had read when it
 *             began; 0 for {@link Kind#ONLY}
 */
public record SummaryPiece(String docId, int seq, String text, boolean last, DocumentStats stats, String error,
                           Kind kind, long upTo) {

    /** Which summary a piece belongs to. */
    public enum Kind {
        /** The one summary of a document without rolling summaries; written without kind and up_to. */
        ONLY,
        /** A rolling summary, made while the document was still streaming in. */
        ROLLING,
        /** The final summary of a document that also had rolling or segment summaries. */
        FINAL,
        /**
         * An intermediate summary of a document read in segments: the running summary after a
         * segment (refine), a segment's own summary or a summary of summaries (map-reduce).
         */
        SEGMENT;

        /** The name in the output's {@code kind} field. */
        public String jsonName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public SummaryPiece {
        if (kind == null) {
            throw new IllegalArgumentException("summary piece kind must not be null");
        }
    }

    /** A piece of a document without rolling summaries that was not rejected. */
    public SummaryPiece(String docId, int seq, String text, boolean last, DocumentStats stats) {
        this(docId, seq, text, last, stats, null, Kind.ONLY, 0);
    }

    /**
     * The final piece of a rejected document: no text, the reason in {@code error}.
     *
     * @param stats figures up to the rejection (tokens_in = prompt tokens seen, nothing generated)
     */
    public static SummaryPiece rejected(String docId, int seq, DocumentStats stats, String error) {
        return new SummaryPiece(docId, seq, "", true, stats, error, Kind.ONLY, 0);
    }

    /** This piece as one JSON object on one line (no trailing newline), fields as in the README. */
    public String toJsonLine() {
        StringBuilder out = new StringBuilder(64 + text.length());
        out.append("{\"doc\":");
        JsonText.appendString(out, docId);
        out.append(",\"seq\":").append(seq).append(",\"text\":");
        JsonText.appendString(out, text);
        out.append(",\"final\":").append(last);
        if (kind != Kind.ONLY) {
            out.append(",\"kind\":\"").append(kind.jsonName()).append("\",\"up_to\":")
                    .append(upTo);
        }
        if (last) {
            out.append(",\"stats\":{\"tokens_in\":").append(stats.tokensIn())
                    .append(",\"tokens_out\":").append(stats.tokensOut())
                    .append(",\"pages_moved\":").append(stats.pagesMoved())
                    .append(",\"resident_hit_rate\":");
            JsonText.appendNumber(out, stats.residentHitRate());
            out.append(",\"seconds\":");
            JsonText.appendNumber(out, stats.seconds());
            if (stats.segments() > 0) {
                out.append(",\"segments\":").append(stats.segments());
            }
            out.append('}');
        }
        if (error != null) {
            out.append(",\"error\":");
            JsonText.appendString(out, error);
        }
        return out.append('}').toString();
    }
}
