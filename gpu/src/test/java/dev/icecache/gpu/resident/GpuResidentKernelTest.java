package dev.icecache.gpu.resident;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;

import dev.icecache.gpu.GpuTestSupport;
import dev.icecache.gpu.cuda.CudaContext;
import dev.icecache.gpu.cuda.DeviceBuffer;
import dev.icecache.gpu.pool.CudaRegionMemory;
import dev.icecache.gpu.pool.SharedDeviceRegion;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.Policy;

/**
 * {@link ResidentTwin} on the device: write_rows, copy_rows, scatter_pages and paged_attention_prefill
 * (F32 and _bf16) through {@link CudaKvDevice}, against the host cache's own attention, for
 * prefill blocks and decode steps with window evictions and page moves.
 */
@Tag("gpu")
class GpuResidentKernelTest {

    @Test
    void shouldAttendAsTheHostCacheWithThePoolOnTheDevice(TestReporter reporter) {
        StringBuilder summary = new StringBuilder("resident kernels vs host attendBlock, max |diff|:");
        try (CudaContext cuda = new CudaContext(GpuTestSupport.requireDevice())) {
            int qDim = ResidentTwin.SHAPE.qDim();
            int kvDim = ResidentTwin.SHAPE.kvDim();
            int batch = ResidentTwin.MAX_BATCH;
            for (Policy policy : new Policy[] {Policy.ICECACHE, Policy.FULL}) {
                for (PageFormat format : PageFormat.values()) {
                    CacheConfig config = CacheConfig.of(policy, 64).withDenseLayers(1).withPageFormat(format);
                    try (SharedDeviceRegion region = new SharedDeviceRegion(256L << 20, 256L << 20,
                            n -> new CudaRegionMemory(cuda, n));
                         DeviceBuffer q = DeviceBuffer.ofFloats((long) batch * qDim);
                         DeviceBuffer k = DeviceBuffer.ofFloats((long) batch * kvDim);
                         DeviceBuffer v = DeviceBuffer.ofFloats((long) batch * kvDim);
                         DeviceBuffer out = DeviceBuffer.ofFloats((long) batch * qDim)) {
                        float[] got = new float[batch * qDim];
                        ResidentTwin twin = new ResidentTwin(config, s -> {
                            SharedDeviceRegion.Lease lease = region.lease("twin", s.bytes(format));
                            CudaKvDevice d = new CudaKvDevice(cuda, s, format,
                                    ((CudaRegionMemory) region.memory()).pointer(lease.offset()), lease::close, qDim, kvDim);
                            d.bind(q.pointer(), k.pointer(), v.pointer(), out.pointer());
                            return d;
                        }, new ResidentTwin.Io() {
                            @Override
                            public void load(float[] hq, float[] hk, float[] hv, int n) {
                                q.upload(hq, 0, n * qDim, 0);
                                k.upload(hk, 0, n * kvDim, 0);
                                v.upload(hv, 0, n * kvDim, 0);
                            }

                            @Override
                            public float[] output(int n) {
                                out.download(0, got, 0, n * qDim);
                                return got;
                            }
                        });
                        float worst = twin.run(600, 11, 1e-4f);
                        twin.resident.close();
                        summary.append(String.format(" %s/%s %.1e;", policy, format, worst));
                    }
                }
            }
        }
        reporter.publishEntry("summary", summary.toString());
    }
}
