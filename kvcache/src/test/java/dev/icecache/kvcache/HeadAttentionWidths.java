package dev.icecache.kvcache;

import java.util.Arrays;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Runs {@link HeadAttentionVector}'s kernels at every vector width against the documented order
 * and exits 1 on the first difference: started by {@link HeadAttentionTest} in its own JVM.
 */
final class HeadAttentionWidths {

    private HeadAttentionWidths() {
    }

    public static void main(String[] args) {
        for (long seed = 1; seed <= 300; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int n = (int) (seed % 131);
            int aOff = rnd.nextInt(9);
            int bOff = rnd.nextInt(9);
            float[] a = HeadAttentionTest.random(aOff + n, rnd);
            float[] b = HeadAttentionTest.random(bOff + n, rnd);
            int want = Float.floatToRawIntBits(HeadAttentionTest.documented(a, aOff, b, bOff, n));
            check(want == Float.floatToRawIntBits(HeadAttentionVector.dot8(a, aOff, b, bOff, n)), "256-bit dot", seed);
            check(want == Float.floatToRawIntBits(HeadAttentionVector.dot4x2(a, aOff, b, bOff, n)), "2x128-bit dot",
                    seed);
        }
        VectorSpecies<?>[] widths = {FloatVector.SPECIES_128, FloatVector.SPECIES_256, FloatVector.SPECIES_512};
        for (long seed = 1; seed <= 100; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int n = 1 + rnd.nextInt(150);
            int vOff = rnd.nextInt(5);
            int oOff = rnd.nextInt(5);
            float[] v = HeadAttentionTest.random(vOff + n, rnd);
            float[] start = HeadAttentionTest.random(oOff + n, rnd);
            float w = (float) rnd.nextDouble();
            float[] want = start.clone();
            HeadAttention.scalarAccumulate(w, v, vOff, want, oOff, n, 0);
            for (VectorSpecies<?> s : widths) {
                float[] got = start.clone();
                @SuppressWarnings("unchecked")
                VectorSpecies<Float> species = (VectorSpecies<Float>) s;
                HeadAttentionVector.accumulate(species, w, v, vOff, got, oOff, n);
                check(Arrays.equals(want, got), s.vectorBitSize() + "-bit accumulation", seed);
            }
        }
        System.out.println("checked 300 dots and 100 accumulations at 128/256/512 bits");
    }

    private static void check(boolean same, String what, long seed) {
        if (!same) {
            System.out.println(what + " differs from the documented order at seed=" + seed);
            System.exit(1);
        }
    }
}
