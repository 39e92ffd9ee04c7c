package dev.icecache.gpu.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;


import dev.icecache.gpu.cuda.CudaContext;
import dev.icecache.kvcache.FullCache;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.Sampler;
import dev.icecache.model.Session;
import dev.icecache.model.synthetic.RandomModels;
import dev.icecache.model.tensor.GgmlType;

/**
 * Decode speed of the GPU backend against the CPU backend on a random Q8_0 model of a 0.5 B
 * Llama shape: a figure for BENCHMARKS.md that {@code gpu/check.sh} prints ({@link
 * dev.icecache.gpu.GpuCheck}); not a test, it asserts nothing.
 */
public final class DecodeSpeedFigure {

    private DecodeSpeedFigure() {
    }

    /** dim 2048, hidden 5632, 8 layers, 32 heads, 4 KV heads (TinyLlama's width, fewer layers). */
    static final RandomModels.Shape SHAPE = new RandomModels.Shape(2048, 5632, 8, 32, 4, 32000, 2048);
    static final int PROMPT = 16;
    static final int DECODE = 32;

    /** One line: decode tokens per second on the CPU and the GPU of {@code device}; model files go to {@code dir}. */
    public static String decodeTokensPerSecondCpuVsGpu(int device, Path dir) throws IOException {
        Path file = dir.resolve("bench-q8_0.gguf");
        RandomModels.write(file, SHAPE, GgmlType.Q8_0, 42, false);
        try (LlamaModel model = LlamaModel.load(file, LoadOptions.defaults());
             CudaContext cuda = new CudaContext(device)) {
            int[] prompt = new int[PROMPT];
            for (int i = 0; i < PROMPT; i++) {
                prompt[i] = 3 + i;
            }
            Sampler greedy = new Sampler(0f, 1f, 0);
            Session cpu = model.newSession(new FullCache(model.cacheShape()));
            int token = greedy.sample(cpu.prefill(prompt, 0, PROMPT, true));
            long t0 = System.nanoTime();
            for (int i = 0; i < DECODE; i++) {
                token = greedy.sample(cpu.step(token));
            }
            double cpuTps = DECODE / ((System.nanoTime() - t0) / 1e9);

            try (GpuWeights weights = GpuWeights.acquire(cuda, model.config(), model.weights());
                 GpuTransformer gpu = new GpuTransformer(cuda, model.config(), model.weights(), weights, PROMPT)) {
                FullCache cache = new FullCache(model.cacheShape());
                int[] one = {greedy.sample(gpu.forward(cache, prompt, 0, PROMPT, 0, true))};
                long t1 = System.nanoTime();
                for (int i = 0; i < DECODE; i++) {
                    one[0] = greedy.sample(gpu.forward(cache, one, 0, 1, PROMPT + i, true));
                }
                double gpuTps = DECODE / ((System.nanoTime() - t1) / 1e9);
                return String.format(
                        "decode tok/s, random Q8_0 model dim 2048 x 8 layers (%.0f MiB): CPU %.1f, GPU %.1f (x%.1f)",
                        Files.size(file) / 1048576.0, cpuTps, gpuTps, gpuTps / cpuTps);
            }
        }
    }
}
