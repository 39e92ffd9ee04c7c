package dev.icecache.operators.decode;

import java.util.Arrays;
import java.util.Collection;

import org.apache.flink.api.common.externalresource.ExternalResourceInfo;

/**
 * The GPU a decoder subtask asks for, from Flink's external resource framework: the
 * TaskManager's GPUs (resource {@code gpu}, property {@code index}) are shared out over its
 * subtasks by subtask index; without a {@code gpu} resource (a local run, or a cluster whose
 * config.yaml does not declare one) it is device 0.
 *
 * @param index the CUDA device ordinal
 * @param source where the index came from, for the log line
 */
record AssignedDevice(int index, String source) {

    /** Flink's external resource name of GPUs, as flink-conf/config.yaml declares it. */
    static final String GPU_RESOURCE = "gpu";
    /** The property of a GPU resource that holds its CUDA index (Flink's GPU driver sets it). */
    static final String INDEX_PROPERTY = "index";

    /**
     * The device of subtask {@code subtaskIndex} among the TaskManager's GPUs {@code gpus}.
     *
     * @throws IllegalArgumentException when a GPU resource has no index or a malformed one
     */
    static AssignedDevice of(Collection<ExternalResourceInfo> gpus, int subtaskIndex) {
        if (gpus.isEmpty()) {
            return new AssignedDevice(0, "no Flink '" + GPU_RESOURCE + "' external resource; device 0 assumed");
        }
        int[] indices = new int[gpus.size()];
        int n = 0;
        for (ExternalResourceInfo gpu : gpus) {
            indices[n++] = parse(gpu.getProperty(INDEX_PROPERTY).orElseThrow(() -> new IllegalArgumentException(
                    "Flink's '" + GPU_RESOURCE + "' external resource has no '" + INDEX_PROPERTY + "' property (keys "
                            + gpu.getKeys() + "); use Flink's GPUDriverFactory as flink-conf/config.yaml shows")));
        }
        Arrays.sort(indices); // the framework's set has no order; every subtask must see the same list
        int index = indices[Math.floorMod(subtaskIndex, indices.length)];
        return new AssignedDevice(index, "Flink '" + GPU_RESOURCE + "' resource, index " + index + " of "
                + Arrays.toString(indices) + " for subtask " + subtaskIndex);
    }

    private static int parse(String value) {
        try {
            int index = Integer.parseInt(value.trim());
            if (index >= 0) {
                return index;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("Flink's '" + GPU_RESOURCE + "' external resource has " + INDEX_PROPERTY
                + "='" + value + "', not a non-negative integer; check the GPU discovery script's output");
    }
}
