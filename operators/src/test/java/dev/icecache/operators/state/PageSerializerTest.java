package dev.icecache.operators.state;

import dev.icecache.kvcache.page.PageFormat;
import java.util.SplittableRandom;

import org.apache.flink.api.common.typeutils.SerializerTestBase;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/** Flink's serializer contract (copy, reuse, sequences, snapshot, duplicate) on edge pages. */
class PageSerializerTest extends SerializerTestBase<StoredPage> {

    @Override
    protected TypeSerializer<StoredPage> createSerializer() {
        return PageSerializer.INSTANCE;
    }

    @Override
    protected int getLength() {
        return -1;
    }

    @Override
    protected Class<StoredPage> getTypeClass() {
        return StoredPage.class;
    }

    @Override
    protected StoredPage[] getTestData() {
        SplittableRandom random = new SplittableRandom(7);
        float[] full = new float[2 * 16 * 8];
        for (int i = 0; i < full.length; i++) {
            full[i] = (float) random.nextGaussian();
        }
        float[] edges = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0.0f, 0.0f, Float.MIN_VALUE,
            Float.MAX_VALUE, -Float.MAX_VALUE};
        return new StoredPage[] {
            new StoredPage(0, 8, new float[0]),
            new StoredPage(16, 8, full),
            new StoredPage(4, 1, edges),
            new StoredPage(1, 1, new float[] {-0.0f, 0.0f}),
            new StoredPage(16, 8, bf16(full), PageFormat.BF16),
            new StoredPage(4, 1, bf16(edges), PageFormat.BF16),
        };
    }

    private static float[] bf16(float[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = PageFormat.BF16.roundTrip(values[i]);
        }
        return out;
    }
}
