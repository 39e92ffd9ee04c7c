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
        return scale(data.getLong(at), data.getInt(at + 8), j);
    }

    /** The 6-bit min of sub-block {@code j} (0..7) of the packed bytes at {@code at}. */
    static int min(ByteBuffer data, int at, int j) {
        return min(data.getLong(at), data.getInt(at + 8), j);
    }

    /**
     * The 6-bit scale of sub-block {@code j} from the 12 bytes read as a little-endian long
     * {@code b0to7} and int {@code b8to11} (two reads per super-block instead of one per byte).
     */
    static int scale(long b0to7, int b8to11, int j) {
        if (j < 4) {
            return byteAt(b0to7, b8to11, j) & 63;
        }
        return (byteAt(b0to7, b8to11, j + 4) & 15) | (byteAt(b0to7, b8to11, j - 4) >>> 6) << 4;
    }

    /** The 6-bit min of sub-block {@code j}, from the same two reads as {@link #scale(long, int, int)}. */
    static int min(long b0to7, int b8to11, int j) {
        if (j < 4) {
            return byteAt(b0to7, b8to11, j + 4) & 63;
        }
        return (byteAt(b0to7, b8to11, j + 4) >>> 4) | (byteAt(b0to7, b8to11, j) >>> 6) << 4;
    }

    /**
     * {@code sum} plus one Q4_K or Q5_K super-block of an int8 dot ({@link Q8KDot}) at byte
     * {@code block} (f16 d, f16 dmin, then the scales read as {@code b0to7}, {@code b8to11}):
     * {@code isum} is its exact sum of scale-weighted products with activation block {@code xb};
     * the mins multiply the activations' partial sums, then come the two float steps.
     */
    static float addSuperBlock(float sum, ByteBuffer data, int block, long b0to7, int b8to11, int isum,
                               Q8KActivations x, int xb) {
        int msum = 0;
        int sums = xb * (Q8KActivations.BLOCK / Q8KActivations.SUM_GROUP);
        for (int j = 0; j < 8; j++) {
            msum += min(b0to7, b8to11, j) * (x.sums[sums + 2 * j] + x.sums[sums + 2 * j + 1]);
        }
        float dx = x.scales[xb];
        sum = Math.fma(Float16.lookup(data.getShort(block)) * dx, (float) isum, sum);
        return Math.fma(-(Float16.lookup(data.getShort(block + 2)) * dx), (float) msum, sum);
    }

    private static int byteAt(long b0to7, int b8to11, int k) {
        return k < 8 ? (int) (b0to7 >>> (8 * k)) & 0xff : (b8to11 >>> (8 * (k - 8))) & 0xff;
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
