package dev.icecache.kvcache.tree;

/**
 * The summation order {@link RankingDot} documents, written out plainly as the tests' oracle:
 * term i goes to lane i mod 8, then the lanes are added pairwise. Deliberately a different shape
 * of code from the kernel (an array of lanes, one loop), so a mistake in the kernel's unrolling or
 * tail does not repeat here.
 */
public final class RankingReference {

    private RankingReference() {
    }

    /** q.k over {@code n} floats in the ranking order. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float[] lane = new float[8];
        for (int i = 0; i < n; i++) {
            lane[i % 8] += a[aOff + i] * b[bOff + i];
        }
        return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
    }

    /**
     * The score a tree ranks a key with: the key quantized as {@link CompactKeys} documents, q.codes
     * in the ranking order (codes widened to floats), times the row's scale.
     */
    public static float compactDot(float[] q, int qOff, float[] key, int kOff, int n) {
        byte[] codes = new byte[n];
        float scale = CompactKeys.quantize(key, kOff, n, codes, 0);
        float[] widened = new float[n];
        for (int i = 0; i < n; i++) {
            widened[i] = codes[i];
        }
        return dot(q, qOff, widened, 0, n) * scale;
    }
}
