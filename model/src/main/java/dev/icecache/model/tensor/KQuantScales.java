package dev.icecache.model.tensor;

import java.nio.ByteBuffer;

/**
 * The 12 bytes of 6-bit sub-block scales and mins of a Q4_K or Q5_K super-block (ggml's
 * {@code scales[K_SCALE_SIZE]}): eight scales and eight mins of 6 bits each.
 *
 * <pre>
 *   sub-block j &lt; 4:  scale = b[j] &amp; 63                      min = b[j+4] &amp; 63
 *   sub-block j &gt;= 4: scale = (b[j+4] &amp; 15) | (b[j-4] &gt;&gt; 6) &lt;&lt; 4   min = (b[j+4] &gt;&gt; 4) | (b[j] &gt;&gt; 6) &lt;&lt; 4
 * </pre>
 */
final class KQuantScales {

    /** Bytes of the packed scales and mins. */
    static final int BYTES = 12;

    private KQuantScales() {
    }

    /** The 6-bit scale of sub-block {@code j} (0..7) of the packed bytes at {@code at}. */
    static int scale(ByteBuffer data, int at, int j) {
        if (j < 4) {
            return data.get(at + j) & 63;
        }
        return (data.get(at + j + 4) & 15) | ((data.get(at + j - 4) & 0xff) >>> 6) << 4;
    }

    /** The 6-bit min of sub-block {@code j} (0..7) of the packed bytes at {@code at}. */
    static int min(ByteBuffer data, int at, int j) {
        if (j < 4) {
            return data.get(at + j + 4) & 63;
        }
        return ((data.get(at + j + 4) & 0xff) >>> 4) | ((data.get(at + j) & 0xff) >>> 6) << 4;
    }

    /** Packs eight 6-bit scales and eight 6-bit mins (each in [0, 63]) into {@code dst} at its position. */
    static void put(int[] scales, int[] mins, ByteBuffer dst) {
        byte[] b = new byte[BYTES];
        for (int j = 0; j < 4; j++) {
            b[j] = (byte) (scales[j] | (scales[j + 4] >>> 4) << 6);
            b[j + 4] = (byte) (mins[j] | (mins[j + 4] >>> 4) << 6);
            b[j + 8] = (byte) ((scales[j + 4] & 15) | (mins[j + 4] & 15) << 4);
        }
        dst.put(b);
    }
}
