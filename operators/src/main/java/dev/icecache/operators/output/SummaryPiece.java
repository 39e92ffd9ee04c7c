package dev.icecache.operators.output;

/**
 * One piece of generated text for a document, as the sink writes it. Pieces of a document
 * have {@code seq} 0, 1, 2, ...; concatenating their texts gives the whole generation.
 *
 * @param docId the document's id
 * @param seq 0, 1, 2, ... within the document
 * @param text the characters produced by this piece (complete UTF-8 characters only)
 * @param last true on the document's final piece, the only one whose {@code stats} count
 * @param stats figures for the whole document; {@link DocumentStats#NONE} unless {@code last}
 * @param error why the document was rejected (on its only, final, piece), or null
 */
public record SummaryPiece(String docId, int seq, String text, boolean last, DocumentStats stats, String error) {

    /** A piece of a document that was not rejected. */
    public SummaryPiece(String docId, int seq, String text, boolean last, DocumentStats stats) {
        this(docId, seq, text, last, stats, null);
    }

    /**
     * The final piece of a rejected document: no text, the reason in {@code error}.
     *
     * @param stats figures up to the rejection (tokens_in = prompt tokens seen, nothing generated)
     */
    public static SummaryPiece rejected(String docId, int seq, DocumentStats stats, String error) {
        return new SummaryPiece(docId, seq, "", true, stats, error);
    }

    /** This piece as one JSON object on one line (no trailing newline), fields as in the README. */
    public String toJsonLine() {
        StringBuilder out = new StringBuilder(64 + text.length());
        out.append("{\"doc\":");
        JsonText.appendString(out, docId);
        out.append(",\"seq\":").append(seq).append(",\"text\":");
        JsonText.appendString(out, text);
        out.append(",\"final\":").append(last);
        if (last) {
            out.append(",\"stats\":{\"tokens_in\":").append(stats.tokensIn())
                    .append(",\"tokens_out\":").append(stats.tokensOut())
                    .append(",\"pages_moved\":").append(stats.pagesMoved())
                    .append(",\"resident_hit_rate\":");
            JsonText.appendNumber(out, stats.residentHitRate());
            out.append(",\"seconds\":");
            JsonText.appendNumber(out, stats.seconds());
            out.append('}');
        }
        if (error != null) {
            out.append(",\"error\":");
            JsonText.appendString(out, error);
        }
        return out.append('}').toString();
    }
}
