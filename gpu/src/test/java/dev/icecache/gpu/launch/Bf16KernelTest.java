package dev.icecache.gpu.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import dev.icecache.kvcache.HeadAttention;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;

/**
 * The BF16 kernels' arithmetic: the device's narrowing equals {@link PageFormat#narrow} bit for bit
 * (specials included), and paged_attention_prefill_bf16 over a BF16 pool gives
 * {@link HeadAttention}'s result over the same rows widened to float (widening is exact).
 */
class Bf16KernelTest {

    @Test
    void shouldNarrowOnTheDeviceAsPageFormatDoes() {
        float[] specials = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, Float.intBitsToFloat(0x7f800001),
                Float.intBitsToFloat(0xff800001), Float.intBitsToFloat(0x3f808000), Float.intBitsToFloat(0x3f818000),
                Float.intBitsToFloat(0x7f7fffff), Float.intBitsToFloat(0x00008000), 1f, -1.5f};
        for (float f : specials) {
            assertEquals(PageFormat.narrow(f), KernelEmulator.bf16Narrow(f), "bits " + Integer.toHexString(
                    Float.floatToRawIntBits(f)));
        }
        SplittableRandom rnd = new SplittableRandom(3);
        for (int i = 0; i < 1_000_000; i++) {
            float f = Float.intBitsToFloat(rnd.nextInt());
            assertEquals(PageFormat.narrow(f), KernelEmulator.bf16Narrow(f));
            short b = (short) rnd.nextInt();
            assertEquals(Float.floatToRawIntBits(PageFormat.widen(b)), Float.floatToRawIntBits(KernelEmulator.bf16Widen(b)));
        }
    }

    @Test
    void shouldAttendOverABf16PoolAsHeadAttentionOverTheWidenedRows() {
        for (long seed = 1; seed <= 10; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int headDim = 8 * (1 + rnd.nextInt(16));
            int n = 1 + rnd.nextInt(200);
            PageLayout layout = PageLayout.of(headDim);
            int rows = layout.rowsPerPage();
            int pages = (n + rows - 1) / rows;
            short[] keys = new short[n * headDim];
            short[] values = new short[n * headDim];
            for (int i = 0; i < keys.length; i++) {
                keys[i] = PageFormat.narrow((float) rnd.nextDouble(-2, 2));
                values[i] = PageFormat.narrow((float) rnd.nextDouble(-2, 2));
            }
            // the pool: pages in shuffled slots, rows in the PageLayout
            int capacity = pages + 5;
            short[] pool = new short[capacity * layout.floatsPerPage()];
            AttentionLaunch launch = new AttentionLaunch(2, 1, layout, pages);
            PageTable table = new PageTable(launch);
            for (int page = 0; page < pages; page++) {
                int slot = (page * 7 + 3) % capacity;
                while (slotTaken(table, slot, page)) {
                    slot = (slot + 1) % capacity;
                }
                int valid = Math.min(rows, n - page * rows);
                table.add(0, slot, valid, page * rows);
                for (int r = 0; r < valid; r++) {
                    int p = page * rows + r;
                    System.arraycopy(keys, p * headDim, pool, (int) launch.keyIndex(slot, r), headDim);
                    System.arraycopy(values, p * headDim, pool, (int) launch.valueIndex(slot, r), headDim);
                }
            }
            float[] q = new float[2 * headDim];
            for (int i = 0; i < q.length; i++) {
                q[i] = (float) rnd.nextDouble(-1, 1);
            }
            float[] expected = new float[2 * headDim];
            float[] att = new float[n];
            float[] wideKeys = new float[keys.length];
            float[] wideValues = new float[values.length];
            for (int i = 0; i < keys.length; i++) {
                wideKeys[i] = PageFormat.widen(keys[i]);
                wideValues[i] = PageFormat.widen(values[i]);
            }
            float[][] kr = new float[n][];
            float[][] vr = new float[n][];
            int[] off = new int[n];
            for (int i = 0; i < n; i++) {
                kr[i] = wideKeys;
                vr[i] = wideValues;
                off[i] = i * headDim;
            }
            HeadAttention.attend(q, 0, kr, off, vr, off, n, headDim, att, expected, 0);
            HeadAttention.attend(q, headDim, kr, off, vr, off, n, headDim, att, expected, headDim);
            float[] got = new float[2 * headDim];
            KernelEmulator.prefillAttention(new PrefillAttentionLaunch(launch, 1), table,
                    i -> KernelEmulator.bf16Widen(pool[(int) i]), q, n - 1, got);
            for (int i = 0; i < got.length; i++) {
                assertEquals(expected[i], got[i], 1e-5f, "seed=" + seed + " n=" + n + " float " + i);
            }
        }
    }

    private static boolean slotTaken(PageTable t, int slot, int listed) {
        for (int e = 0; e < listed; e++) {
            if (t.slot(0, e) == slot) {
                return true;
            }
        }
        return false;
    }
}
