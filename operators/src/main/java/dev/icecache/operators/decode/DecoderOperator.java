package dev.icecache.operators.decode;

import java.util.ArrayList;
import java.util.List;

import dev.icecache.operators.output.SummaryPiece;
import dev.icecache.operators.tokenize.TokenChunk;

import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.operators.TimerHeapInternalTimer;

/**
 * Runs {@link IceCacheDecoder} and finishes its pending generations when the input ends.
 *
 * <p>NOTE: Flink drops processing-time timers that have not fired when a bounded input ends
 * (checked on 2.3: a chain of 300 timers fired once), which would cut every generation still
 * in progress. So at end of input this operator fires the pending decode timers itself, key by
 * key, until none is left. Generation then runs without checkpoints in between; a failure
 * there restarts from the last checkpoint, which is still exact.
 */
public final class DecoderOperator extends KeyedProcessOperator<String, TokenChunk, SummaryPiece>
        implements BoundedOneInput {

    private static final long serialVersionUID = 1L;

    /** The timer service name {@link KeyedProcessOperator} registers its timers under. */
    private static final String USER_TIMERS = "user-timers";

    /** @param decoder the keyed function */
    public DecoderOperator(IceCacheDecoder decoder) {
        super(decoder);
    }

    @Override
    public void endInput() throws Exception {
        InternalTimerService<VoidNamespace> timers =
                getInternalTimerService(USER_TIMERS, VoidNamespaceSerializer.INSTANCE, this);
        List<TimerHeapInternalTimer<String, VoidNamespace>> due = new ArrayList<>();
        do {
            due.clear();
            timers.forEachProcessingTimeTimer((namespace, time) ->
                    due.add(new TimerHeapInternalTimer<>(time, (String) getCurrentKey(), namespace)));
            for (TimerHeapInternalTimer<String, VoidNamespace> timer : due) {
                setCurrentKey(timer.getKey());
                timers.deleteProcessingTimeTimer(timer.getNamespace(), timer.getTimestamp());
                onProcessingTime(timer);
            }
        } while (!due.isEmpty());
    }
}
