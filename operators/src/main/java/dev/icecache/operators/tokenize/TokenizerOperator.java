package dev.icecache.operators.tokenize;

import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import dev.icecache.operators.document.DocumentChunk;

import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.Collector;

/**
 * Runs {@link ChunkTokenizer} and, when a bounded input ends, ends every document still
 * waiting for chunks (a drained Kafka topic whose producer had not written a document's last
 * chunk yet): each is tokenized with what arrived and its {@link DocumentEnd} says "the input
 * ended before its final chunk". Without this its chunks would be read (and their offsets
 * committed) but the document would produce no line: Flink fires no timer after the input
 * ends, so not even the idle timeout would end it. A file source always ends its documents,
 * so there it finds nothing to do.
 */
public final class TokenizerOperator extends KeyedProcessOperator<String, DocumentChunk, TokenChunk>
        implements BoundedOneInput {

    private static final long serialVersionUID = 1L;

    /** The timer service name {@link KeyedProcessOperator} registers its timers under. */
    private static final String USER_TIMERS = "user-timers";

    /** @param tokenizer the keyed function */
    public TokenizerOperator(ChunkTokenizer tokenizer) {
        super(tokenizer);
    }

    @Override
    public void endInput() throws Exception {
        InternalTimerService<VoidNamespace> timers =
                getInternalTimerService(USER_TIMERS, VoidNamespaceSerializer.INSTANCE, this);
        ChunkTokenizer.Ends ends = new ChunkTokenizer.Ends() {
            @Override
            public void send(DocumentEnd end) {
                output.collect(ChunkTokenizer.DOCUMENT_ENDS, new StreamRecord<>(end));
            }

            @Override
            public void deleteTimer(long time) {
                timers.deleteProcessingTimeTimer(VoidNamespace.INSTANCE, time);
            }
        };
        Collector<TokenChunk> out = new Collector<>() {
            @Override
            public void collect(TokenChunk chunk) {
                output.collect(new StreamRecord<>(chunk));
            }

            @Override
            public void close() {
            }
        };
        ChunkTokenizer tokenizer = (ChunkTokenizer) userFunction; // the constructor's argument
        for (String docId : documentsInState()) {
            setCurrentKey(docId);
            tokenizer.endAtEndOfInput(docId, ends, out);
        }
    }

    /** Every document with a position or waiting chunks, in id order (the keys are read before any is changed). */
    private Set<String> documentsInState() throws Exception {
        Set<String> ids = new TreeSet<>();
        for (String state : new String[] {ChunkTokenizer.NEXT_CHUNK_STATE, ChunkTokenizer.EARLY_CHUNKS_STATE}) {
            try (Stream<String> keys = this.<String>getKeyedStateBackend().getKeys(state, VoidNamespace.INSTANCE)) {
                keys.forEach(ids::add);
            }
        }
        return ids;
    }
}
