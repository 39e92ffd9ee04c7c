package dev.icecache.operators.decode;

import dev.icecache.operators.output.SummaryPiece;
import dev.icecache.operators.tokenize.TokenChunk;

import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;

/**
 * Runs {@link IceCacheDecoder} and lets its pending generations finish when the input ends.
 *
 * <p>NOTE: Flink stops firing processing-time timers once a bounded input has ended and the
 * operator finishes (checked on 2.3: a chain of 300 timers fired once), which would cut every
 * generation still in progress. So {@link #endInput()} keeps the task's mailbox running (as
 * Flink's own async operator does) until no decode timer is left: the timers fire as usual,
 * one slice each, and checkpoints still go through between slices.
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
        // NOTE: the lowest priority, so that the yield also runs the task's own mails, among them the
        // trigger of each checkpoint (an operator-priority executor left them queued until the end)
        MailboxExecutor mailbox = getContainingTask().getMailboxExecutorFactory()
                .createExecutor(TaskMailbox.MIN_PRIORITY);
        InternalTimerService<VoidNamespace> timers =
                getInternalTimerService(USER_TIMERS, VoidNamespaceSerializer.INSTANCE, this);
        while (hasProcessingTimers(timers)) {
            mailbox.yield();
        }
    }

    private static boolean hasProcessingTimers(InternalTimerService<VoidNamespace> timers) throws Exception {
        boolean[] any = {false};
        timers.forEachProcessingTimeTimer((namespace, time) -> any[0] = true);
        return any[0];
    }
}
