package dev.icecache.job.resume;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.state.api.runtime.SavepointLoader;

/**
 * Checks, before Flink restores it, that a checkpoint or savepoint belongs to this job graph:
 * its metadata must load, hold the decoder's state, and hold no state of an operator the job
 * does not have (which Flink refuses with a long trace).
 */
public final class CheckpointOperators {

    private CheckpointOperators() {
    }

    /**
     * @param point the checkpoint or savepoint to resume from
     * @param jobOperators the operator ids of the job to run (generated from the stable uids)
     * @param decoder the decoder's operator id
     * @param decoderUid the decoder's uid, for the message
     * @throws IllegalArgumentException one line saying what was found and what to do
     */
    public static void requireJob(ResumePoint point, Set<OperatorID> jobOperators, OperatorID decoder,
                                  String decoderUid) {
        CheckpointMetadata metadata;
        try {
            metadata = SavepointLoader.loadSavepointMetadata(point.pointer());
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("--resume " + point.dir() + ": its " + ResumePoint.METADATA
                    + " is not Flink 2.x checkpoint metadata (" + e.getMessage() + "); give another checkpoint or run"
                    + " without --resume to start over");
        }
        boolean hasDecoder = false;
        List<String> foreign = new ArrayList<>();
        for (OperatorState state : metadata.getOperatorStates()) {
            hasDecoder |= state.getOperatorID().equals(decoder);
            boolean holdsState = state.getStateSize() > 0 || state.getCoordinatorState() != null;
            if (holdsState && !jobOperators.contains(state.getOperatorID())) {
                foreign.add(state.getOperatorID().toHexString());
            }
        }
        if (!hasDecoder) {
            throw new IllegalArgumentException("--resume " + point.dir() + " holds no state of operator '" + decoderUid
                    + "': it is not a checkpoint of icecache summarize; give one of this job, or run without --resume");
        }
        if (!foreign.isEmpty()) {
            throw new IllegalArgumentException("--resume " + point.dir() + " holds state of " + foreign.size()
                    + " operator(s) this job does not have (" + String.join(", ", foreign.subList(0,
                    Math.min(3, foreign.size()))) + "): it was written by another job graph; give a checkpoint of"
                    + " this job, or run without --resume to start over");
        }
    }
}
