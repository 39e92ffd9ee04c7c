package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import dev.icecache.operators.output.DocumentStats;
import dev.icecache.operators.output.SummaryPiece;
import dev.icecache.operators.tokenize.DocumentEnd;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** The final piece gets its document's note whichever of the two comes first, and no state is left. */
class DocumentEndJoinTest {

    private static final DocumentStats STATS = new DocumentStats(100, 5, 3, 0.5, 1.25);

    private static KeyedTwoInputStreamOperatorTestHarness<String, SummaryPiece, DocumentEnd, SummaryPiece> harness()
            throws Exception {
        var h = new KeyedTwoInputStreamOperatorTestHarness<>(new KeyedCoProcessOperator<>(new DocumentEndJoin()),
                SummaryPiece::docId, DocumentEnd::docId, Types.STRING);
        h.setStateBackend(new HashMapStateBackend());
        h.open();
        return h;
    }

    @Test
    void shouldPassPiecesAndPutTheNoteOnTheFinalOneWhenTheEndComesLast() throws Exception {
        try (var h = harness()) {
            h.processElement1(new SummaryPiece("a", 0, "One", false, DocumentStats.NONE), 0);
            h.processElement1(new SummaryPiece("a", 1, " two", true, STATS), 0);
            assertEquals(List.of(new SummaryPiece("a", 0, "One", false, DocumentStats.NONE)), h.extractOutputValues(),
                    "the final piece waits for the document's end");
            h.processElement2(new DocumentEnd("a", "ended after idle timeout of 10 s", true), 0);
            assertEquals(List.of(new SummaryPiece("a", 0, "One", false, DocumentStats.NONE),
                    new SummaryPiece("a", 1, " two", true, STATS, "ended after idle timeout of 10 s",
                            SummaryPiece.Kind.ONLY, 0)),
                    h.extractOutputValues());
            assertEquals(0, h.numKeyedStateEntries(), "nothing left once both came");
        }
    }

    @Test
    void shouldEmitTheFinalPieceUnchangedWhenTheEndCameFirstWithoutANote() throws Exception {
        try (var h = harness()) {
            h.processElement2(new DocumentEnd("b", null, true), 0);
            h.processElement1(new SummaryPiece("b", 0, "All.", true, STATS), 0);
            assertEquals(List.of(new SummaryPiece("b", 0, "All.", true, STATS)), h.extractOutputValues());
            assertEquals(0, h.numKeyedStateEntries());
        }
    }

    @Test
    void shouldKeepTheDecodersErrorAndAddTheNote() throws Exception {
        try (var h = harness()) {
            h.processElement2(new DocumentEnd("c", "malformed Kafka record t/0@9: bad", true), 0);
            h.processElement1(SummaryPiece.rejected("c", 0, STATS, "document rejected: too long"), 0);
            assertEquals(List.of(SummaryPiece.rejected("c", 0, STATS,
                    "document rejected: too long; malformed Kafka record t/0@9: bad")), h.extractOutputValues());
        }
    }

    @Test
    void shouldKeepTheKindOfARollingDocumentsFinalPiece() throws Exception {
        try (var h = harness()) {
            h.processElement1(new SummaryPiece("r", 0, "So far.", false, DocumentStats.NONE, null,
                    SummaryPiece.Kind.ROLLING, 512), 0);
            h.processElement1(new SummaryPiece("r", 1, "In the end.", true, STATS, null, SummaryPiece.Kind.FINAL,
                    900), 0);
            h.processElement2(new DocumentEnd("r", "ended after idle timeout of 1 min", true), 0);
            assertEquals(List.of(new SummaryPiece("r", 0, "So far.", false, DocumentStats.NONE, null,
                            SummaryPiece.Kind.ROLLING, 512),
                    new SummaryPiece("r", 1, "In the end.", true, STATS, "ended after idle timeout of 1 min",
                            SummaryPiece.Kind.FINAL, 900)), h.extractOutputValues());
        }
    }

    @Test
    void shouldRejectADocumentThatNeverReachedTheDecoder() throws Exception {
        try (var h = harness()) {
            h.processElement2(new DocumentEnd("t/1@3", "malformed Kafka record t/1@3: it has no key", false), 0);
            assertEquals(List.of(SummaryPiece.rejected("t/1@3", 0, DocumentStats.NONE,
                    "malformed Kafka record t/1@3: it has no key")), h.extractOutputValues());
            assertEquals(0, h.numKeyedStateEntries());
        }
    }
}
