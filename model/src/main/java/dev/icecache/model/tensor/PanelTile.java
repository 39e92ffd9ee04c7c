package dev.icecache.model.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register tile of batched products on quantized weights (prefill), in the order of a plain
 * loop, so its bits do not depend on the machine's vector width:
 *
 * <pre>
 *   out[t][r] = fma chain over c = 0, 1, ..., cols-1, from 0      (s = fma(W[r][c], x[t][c], s))
 * </pre>
 *
 * Each product is one chain, so vectors run across products, never within one: a panel holds
 * {@link #ROWS} weight rows decoded and transposed ({@code panel[c*16 + j]} is row j's column c,
 * {@link #CHUNK} columns at a time, so the panel stays in L1), the activations sit in groups of
 * {@link #VECTORS} interleaved the same way ({@code packed[g*4*cols + c*4 + i]} is vector 4g+i's
 * column c), and a step loads sixteen weights as vectors, broadcasts four activations and does
 * 4 x 16 multiply-adds into accumulators that stay in registers. The loop carries no index
 * arithmetic but one per operand, where {@link FixedLaneDot#dot4x4} needs one per row and vector
 * and holds twice the accumulators (its sixteen fixed lanes are two 256-bit registers each), which
 * C2 spills on a machine with sixteen vector registers.
 *
 * <p>The bits differ from {@link FixedLaneDot#dot} (a chain per lane, then a fold), so a prefill
 * on quantized weights and a decode of the same positions differ in rounding, as they already did
 * by the decode's int8 activations ({@code MatMul}). F32, F16 and BF16 weights keep the fixed-lane
 * tile, whose products equal the decode's bit for bit.
 */
public final class PanelTile {

    /** Weight rows per panel. */
    public static final int ROWS = 16;
    /** Activation vectors per group. */
    public static final int VECTORS = 4;
    /** Columns per panel: 16 x 256 floats are 16 KB, half of a small L1. */
    public static final int CHUNK = 256;
    /** Floats of a panel. */
    public static final int PANEL_FLOATS = ROWS * CHUNK;
    /** Floats of one group's accumulators. */
    public static final int GROUP_FLOATS = VECTORS * ROWS;

    private static final VectorSpecies<Float> SPECIES = FloatTensor.SPECIES;
    private static final int LEN = SPECIES == null ? ROWS : SPECIES.length();

    private PanelTile() {
    }

    /** Floats {@link #packVectors} writes for {@code batch} vectors of {@code cols} columns. */
    public static int packedFloats(int cols, int batch) {
        return groups(batch) * VECTORS * cols;
    }

    /** Groups of {@link #VECTORS} that hold {@code batch} vectors (the last one padded with zeros). */
    public static int groups(int batch) {
        return (batch + VECTORS - 1) / VECTORS;
    }

    /** Interleaves vectors {@code x[t*cols ..]}, t in [0, batch), into groups of four; missing vectors of the last group are zeros. */
    public static void packVectors(float[] x, int cols, int batch, float[] packed) {
        for (int g = 0; g < groups(batch); g++) {
            int base = g * VECTORS * cols;
            for (int i = 0; i < VECTORS; i++) {
                int t = g * VECTORS + i;
                if (t < batch) {
                    int src = t * cols;
                    for (int c = 0; c < cols; c++) {
                        packed[base + c * VECTORS + i] = x[src + c];
                    }
                } else {
                    for (int c = 0; c < cols; c++) {
                        packed[base + c * VECTORS + i] = 0f;
                    }
                }
            }
        }
    }

    /**
     * Decodes columns {@code [col, col+n)} of weight rows {@code [row, row+nRows)} (rows of
     * {@code cols} columns) into {@code panel}, transposed; rows past {@code nRows} are zeros.
     * {@code rowBuf} holds at least {@code n} floats.
     */
    public static void packPanel(FloatTensor w, int row, int nRows, int cols, int col, int n, float[] rowBuf, float[] panel) {
        for (int j = 0; j < ROWS; j++) {
            if (j < nRows) {
                w.copyTo((long) (row + j) * cols + col, rowBuf, 0, n);
                for (int c = 0; c < n; c++) {
                    panel[c * ROWS + j] = rowBuf[c];
                }
            } else {
                for (int c = 0; c < n; c++) {
                    panel[c * ROWS + j] = 0f;
                }
            }
        }
    }

    /**
     * Continues the chains of {@code groups} groups with the panel's {@code n} columns, which are
     * columns {@code [col, col+n)} of vectors of {@code cols} columns: {@code acc[g*64 + i*16 + j]}
     * is vector 4g+i times row j. Eight chains keep two multiply-add units busy through their
     * latency: at 256 bits a group's 4 x 16 products are eight vectors; at 512 bits they are four,
     * so two groups run together.
     */
    public static void multiply(float[] panel, int n, float[] packed, int col, int cols, int groups, float[] acc) {
        int g = 0;
        if (SPECIES == null) {
            for (; g < groups; g++) {
                scalar(panel, n, packed, packedOffset(g, col, cols), acc, g * GROUP_FLOATS);
            }
        } else if (LEN == 8) {
            for (; g < groups; g++) {
                twoPart(panel, n, packed, packedOffset(g, col, cols), acc, g * GROUP_FLOATS);
            }
        } else {
            if (LEN == ROWS) {
                for (; g + 2 <= groups; g += 2) {
                    twoGroups(panel, n, packed, packedOffset(g, col, cols), packedOffset(g + 1, col, cols), acc, g * GROUP_FLOATS);
                }
            }
            for (; g < groups; g++) {
                for (int p = 0; p < ROWS; p += LEN) {
                    onePart(panel, p, n, packed, packedOffset(g, col, cols), acc, g * GROUP_FLOATS + p);
                }
            }
        }
    }

    private static int packedOffset(int group, int col, int cols) {
        return group * VECTORS * cols + col * VECTORS;
    }

    /** 512 bits: sixteen rows are one vector; two groups' eight accumulators. */
    private static void twoGroups(float[] panel, int n, float[] packed, int xOff, int yOff, float[] acc, int accOff) {
        java.util.Objects.checkFromIndexSize(accOff, 2 * GROUP_FLOATS, acc.length);
        java.util.Objects.checkFromIndexSize(0, n * ROWS, panel.length);
        java.util.Objects.checkFromIndexSize(xOff, n * VECTORS, packed.length);
        java.util.Objects.checkFromIndexSize(yOff, n * VECTORS, packed.length);
        FloatVector c0 = FloatVector.fromArray(SPECIES, acc, accOff);
        FloatVector c1 = FloatVector.fromArray(SPECIES, acc, accOff + 16);
        FloatVector c2 = FloatVector.fromArray(SPECIES, acc, accOff + 32);
        FloatVector c3 = FloatVector.fromArray(SPECIES, acc, accOff + 48);
        FloatVector c4 = FloatVector.fromArray(SPECIES, acc, accOff + 64);
        FloatVector c5 = FloatVector.fromArray(SPECIES, acc, accOff + 80);
        FloatVector c6 = FloatVector.fromArray(SPECIES, acc, accOff + 96);
        FloatVector c7 = FloatVector.fromArray(SPECIES, acc, accOff + 112);
        for (int c = 0; c < n; c++) {
            int xc = xOff + c * VECTORS;
            int yc = yOff + c * VECTORS;
            FloatVector w = FloatVector.fromArray(SPECIES, panel, c * ROWS);
            c0 = w.fma(FloatVector.broadcast(SPECIES, packed[xc]), c0);
            c1 = w.fma(FloatVector.broadcast(SPECIES, packed[xc + 1]), c1);
            c2 = w.fma(FloatVector.broadcast(SPECIES, packed[xc + 2]), c2);
            c3 = w.fma(FloatVector.broadcast(SPECIES, packed[xc + 3]), c3);
            c4 = w.fma(FloatVector.broadcast(SPECIES, packed[yc]), c4);
            c5 = w.fma(FloatVector.broadcast(SPECIES, packed[yc + 1]), c5);
            c6 = w.fma(FloatVector.broadcast(SPECIES, packed[yc + 2]), c6);
            c7 = w.fma(FloatVector.broadcast(SPECIES, packed[yc + 3]), c7);
        }
        c0.intoArray(acc, accOff);
        c1.intoArray(acc, accOff + 16);
        c2.intoArray(acc, accOff + 32);
        c3.intoArray(acc, accOff + 48);
        c4.intoArray(acc, accOff + 64);
        c5.intoArray(acc, accOff + 80);
        c6.intoArray(acc, accOff + 96);
        c7.intoArray(acc, accOff + 112);
    }

    /** 256 bits: sixteen rows are two vectors, eight accumulators. */
    private static void twoPart(float[] panel, int n, float[] packed, int packedOff, float[] acc, int accOff) {
        java.util.Objects.checkFromIndexSize(accOff, GROUP_FLOATS, acc.length);
        java.util.Objects.checkFromIndexSize(0, n * ROWS, panel.length);
        java.util.Objects.checkFromIndexSize(packedOff, n * VECTORS, packed.length);
        FloatVector c00 = FloatVector.fromArray(SPECIES, acc, accOff);
        FloatVector c01 = FloatVector.fromArray(SPECIES, acc, accOff + 8);
        FloatVector c10 = FloatVector.fromArray(SPECIES, acc, accOff + 16);
        FloatVector c11 = FloatVector.fromArray(SPECIES, acc, accOff + 24);
        FloatVector c20 = FloatVector.fromArray(SPECIES, acc, accOff + 32);
        FloatVector c21 = FloatVector.fromArray(SPECIES, acc, accOff + 40);
        FloatVector c30 = FloatVector.fromArray(SPECIES, acc, accOff + 48);
        FloatVector c31 = FloatVector.fromArray(SPECIES, acc, accOff + 56);
        for (int c = 0; c < n; c++) {
            int pc = c * ROWS;
            int xc = packedOff + c * VECTORS;
            FloatVector w0 = FloatVector.fromArray(SPECIES, panel, pc);
            FloatVector w1 = FloatVector.fromArray(SPECIES, panel, pc + 8);
            FloatVector a = FloatVector.broadcast(SPECIES, packed[xc]);
            c00 = w0.fma(a, c00);
            c01 = w1.fma(a, c01);
            a = FloatVector.broadcast(SPECIES, packed[xc + 1]);
            c10 = w0.fma(a, c10);
            c11 = w1.fma(a, c11);
            a = FloatVector.broadcast(SPECIES, packed[xc + 2]);
            c20 = w0.fma(a, c20);
            c21 = w1.fma(a, c21);
            a = FloatVector.broadcast(SPECIES, packed[xc + 3]);
            c30 = w0.fma(a, c30);
            c31 = w1.fma(a, c31);
        }
        c00.intoArray(acc, accOff);
        c01.intoArray(acc, accOff + 8);
        c10.intoArray(acc, accOff + 16);
        c11.intoArray(acc, accOff + 24);
        c20.intoArray(acc, accOff + 32);
        c21.intoArray(acc, accOff + 40);
        c30.intoArray(acc, accOff + 48);
        c31.intoArray(acc, accOff + 56);
    }

    /** Any other width (and a last single group at 512 bits): the rows {@code [p, p+LEN)} as one vector, four accumulators. */
    private static void onePart(float[] panel, int p, int n, float[] packed, int packedOff, float[] acc, int accOff) {
        FloatVector c0 = FloatVector.fromArray(SPECIES, acc, accOff);
        FloatVector c1 = FloatVector.fromArray(SPECIES, acc, accOff + ROWS);
        FloatVector c2 = FloatVector.fromArray(SPECIES, acc, accOff + 2 * ROWS);
        FloatVector c3 = FloatVector.fromArray(SPECIES, acc, accOff + 3 * ROWS);
        for (int c = 0; c < n; c++) {
            int xc = packedOff + c * VECTORS;
            FloatVector w = FloatVector.fromArray(SPECIES, panel, c * ROWS + p);
            c0 = w.fma(FloatVector.broadcast(SPECIES, packed[xc]), c0);
            c1 = w.fma(FloatVector.broadcast(SPECIES, packed[xc + 1]), c1);
            c2 = w.fma(FloatVector.broadcast(SPECIES, packed[xc + 2]), c2);
            c3 = w.fma(FloatVector.broadcast(SPECIES, packed[xc + 3]), c3);
        }
        c0.intoArray(acc, accOff);
        c1.intoArray(acc, accOff + ROWS);
        c2.intoArray(acc, accOff + 2 * ROWS);
        c3.intoArray(acc, accOff + 3 * ROWS);
    }

    /** The reference: the order of the class comment in scalar code. */
    static void scalar(float[] panel, int n, float[] packed, int packedOff, float[] acc, int accOff) {
        for (int i = 0; i < VECTORS; i++) {
            for (int j = 0; j < ROWS; j++) {
                float s = acc[accOff + i * ROWS + j];
                for (int c = 0; c < n; c++) {
                    s = Math.fma(panel[c * ROWS + j], packed[packedOff + c * VECTORS + i], s);
                }
                acc[accOff + i * ROWS + j] = s;
            }
        }
    }
}
