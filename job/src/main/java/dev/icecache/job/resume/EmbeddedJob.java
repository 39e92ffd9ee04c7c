package dev.icecache.job.resume;

import java.util.concurrent.atomic.AtomicReference;

import dev.icecache.job.SummarizeJob;

import org.apache.flink.api.common.JobID;
import org.apache.flink.client.deployment.executors.LocalExecutor;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.core.execution.CheckpointType;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.execution.ExecutionState;
import org.apache.flink.runtime.executiongraph.AccessExecutionJobVertex;
import org.apache.flink.runtime.executiongraph.AccessExecutionVertex;
import org.apache.flink.runtime.minicluster.MiniCluster;

/**
 * A summarize job on an embedded mini-cluster, submitted as {@code LocalStreamEnvironment} does
 * but keeping the cluster, which can take a checkpoint on demand and tells whether the decoder's
 * input has ended.
 *
 * @param client the job's client (cancel, savepoint, result); it shuts the cluster down when the job ends
 * @param cluster the mini-cluster running only this job
 */
public record EmbeddedJob(JobClient client, MiniCluster cluster) {

    /** Submits {@code job} to a new mini-cluster made from its configuration. */
    public static EmbeddedJob submit(SummarizeJob job) throws Exception {
        AtomicReference<MiniCluster> cluster = new AtomicReference<>();
        Configuration config = job.configuration();
        config.set(DeploymentOptions.TARGET, LocalExecutor.NAME);
        config.set(DeploymentOptions.ATTACHED, true);
        JobClient client = LocalExecutor.createWithFactory(config, clusterConfig -> {
            MiniCluster created = new MiniCluster(clusterConfig);
            cluster.set(created);
            return created;
        }).execute(job.streamGraph(), config, Thread.currentThread().getContextClassLoader()).get();
        return new EmbeddedJob(client, cluster.get());
    }

    /** The job's id. */
    public JobID id() {
        return client.getJobID();
    }

    /**
     * True once the input has ended: all the sources have finished, or a task between them and
     * the decoder has (it ends only when all of its inputs have). A savepoint's aligned barrier
     * would then reach the decoder only after its end of input, that is after every pending
     * generation. (A source subtask without files to read finishes early: one is not enough.)
     */
    public boolean inputEnded() throws Exception {
        boolean source = true;
        for (AccessExecutionJobVertex vertex : cluster.getExecutionGraph(id()).get().getVerticesTopologically()) {
            if (vertex.getName().contains(SummarizeJob.DECODER_UID)) {
                return false;
            }
            if (source ? vertex.getAggregateState() == ExecutionState.FINISHED : anyFinished(vertex)) {
                return true;
            }
            source = false;
        }
        return false;
    }

    private static boolean anyFinished(AccessExecutionJobVertex vertex) {
        for (AccessExecutionVertex subtask : vertex.getTaskVertices()) {
            if (subtask.getExecutionState() == ExecutionState.FINISHED) {
                return true;
            }
        }
        return false;
    }

    /** Takes a full (self-contained) checkpoint now; completes with its id. */
    public java.util.concurrent.CompletableFuture<Long> checkpointNow() {
        return cluster.triggerCheckpoint(id(), CheckpointType.FULL);
    }
}
