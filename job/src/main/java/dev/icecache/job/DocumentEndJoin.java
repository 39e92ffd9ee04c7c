package dev.icecache.job;

import dev.icecache.operators.output.DocumentStats;
import dev.icecache.operators.output.SummaryPiece;
import dev.icecache.operators.tokenize.ChunkTokenizer;
import dev.icecache.operators.tokenize.DocumentEnd;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Puts the tokenizer's note on a document's final piece (key = document id). The decoder's
 * pieces (input 1) and the tokenizer's {@link DocumentEnd}s from
 * {@link ChunkTokenizer#DOCUMENT_ENDS} (input 2) travel on different channels, so either may
 * come first: the final piece waits in keyed state for its document's end, or the end for
 * its final piece; whichever comes second emits the final piece with the note appended to
 * its {@code error}. Pieces before the final one pass at once, in order.
 *
 * <pre>
 *   decoder ── piece 0, 1, ... ─────────────────────────► out
 *           └─ final piece ─┐
 *                           ├─ both here ─► final piece + note ─► out (state cleared)
 *   tokenizer ─ DocumentEnd ┘
 *   tokenizer ─ DocumentEnd(decoded=false) ─► rejected piece with the note ─► out
 * </pre>
 *
 * A document that never reached the decoder (its only record was malformed) gets its one
 * line, {@link SummaryPiece#rejected}, from the end alone.
 */
final class DocumentEndJoin extends KeyedCoProcessFunction<String, SummaryPiece, DocumentEnd, SummaryPiece> {

    private static final long serialVersionUID = 1L;

    /** Name of the state holding a final piece whose document end has not come yet. */
    static final String WAITING_PIECE_STATE = "icecache-end-join-piece";
    /** Name of the state holding a document end whose final piece has not come yet. */
    static final String WAITING_END_STATE = "icecache-end-join-end";

    private transient ValueState<SummaryPiece> waitingPiece;
    private transient ValueState<DocumentEnd> waitingEnd;

    @Override
    public void open(OpenContext openContext) {
        waitingPiece = getRuntimeContext().getState(
                new ValueStateDescriptor<>(WAITING_PIECE_STATE, TypeInformation.of(SummaryPiece.class)));
        waitingEnd = getRuntimeContext().getState(
                new ValueStateDescriptor<>(WAITING_END_STATE, TypeInformation.of(DocumentEnd.class)));
    }

    @Override
    public void processElement1(SummaryPiece piece, Context ctx, Collector<SummaryPiece> out) throws Exception {
        if (!piece.last()) {
            out.collect(piece);
            return;
        }
        DocumentEnd end = waitingEnd.value();
        if (end == null) {
            waitingPiece.update(piece);
            return;
        }
        waitingEnd.clear();
        out.collect(withNote(piece, end.note()));
    }

    @Override
    public void processElement2(DocumentEnd end, Context ctx, Collector<SummaryPiece> out) throws Exception {
        if (!end.decoded()) {
            out.collect(SummaryPiece.rejected(end.docId(), 0, DocumentStats.NONE, end.note()));
            return;
        }
        SummaryPiece piece = waitingPiece.value();
        if (piece == null) {
            waitingEnd.update(end);
            return;
        }
        waitingPiece.clear();
        out.collect(withNote(piece, end.note()));
    }

    /** The piece with {@code note} added to its error (kept when it has one already). */
    static SummaryPiece withNote(SummaryPiece piece, String note) {
        if (note == null) {
            return piece;
        }
        String error = piece.error() == null ? note : piece.error() + "; " + note;
        return new SummaryPiece(piece.docId(), piece.seq(), piece.text(), piece.last(), piece.stats(), error,
                piece.kind(), piece.upTo());
    }
}
