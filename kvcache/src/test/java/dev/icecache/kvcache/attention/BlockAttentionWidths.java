package dev.icecache.kvcache.attention;

import jdk.incubator.vector.FloatVector;

/**
 * Runs {@link BlockAttentionTest}'s cases in this JVM, whose vector width or kernel the test chose
 * by its flags, and exits 1 on the first difference from {@code HeadAttention}: started by
 * {@link BlockAttentionTest} in a JVM of its own.
 */
final class BlockAttentionWidths {

    private BlockAttentionWidths() {
    }

    public static void main(String[] args) {
        for (String c : BlockAttentionTest.CASES) {
            String[] f = c.split(",\\s*");
            try {
                BlockAttentionTest.checkAgainstHeadAttention(Integer.parseInt(f[0]), Integer.parseInt(f[1]),
                        Integer.parseInt(f[2]), Integer.parseInt(f[3]));
            } catch (AssertionError differs) {
                System.out.println("case " + c + ": " + differs.getMessage());
                System.exit(1);
            }
        }
        BlockAttention.Scratch scratch = new BlockAttention.Scratch(); // shared: each case must size it
        for (String c : BlockAttentionTest.STEP_CASES) {
            String[] f = c.split(",\\s*");
            try {
                BlockAttentionTest.checkDecodeStep(Integer.parseInt(f[0]), Integer.parseInt(f[1]),
                        Integer.parseInt(f[2]), scratch);
            } catch (AssertionError differs) {
                System.out.println("decode step " + c + ": " + differs.getMessage());
                System.exit(1);
            }
        }
        System.out.println("checked " + (BlockAttentionTest.CASES.length + BlockAttentionTest.STEP_CASES.length)
                + " cases, vector=" + BlockAttention.VECTOR
                + " at " + FloatVector.SPECIES_PREFERRED.vectorBitSize() + " bits");
    }
}
