package dev.icecache.job.resume;

import java.util.concurrent.atomic.AtomicReference;

import dev.icecache.job.SummarizeJob;

import org.apache.flink.api.common.JobID;
import org.apache.flink.client.deployment.executors.LocalExecutor;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.core.execution.CheckpointType;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;

/**
 * A summarize job on an embedded mini-cluster, submitted as {@code LocalStreamEnvironment} does
 * but keeping the cluster, which can take a checkpoint on demand.
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

    /** Takes a full (self-contained) checkpoint now; completes with its id. */
    public java.util.concurrent.CompletableFuture<Long> checkpointNow() {
        return cluster.triggerCheckpoint(id(), CheckpointType.FULL);
    }
}
