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
 * Each product is one chain, so vectors run across products, never within one: across the
 * vectors of the batch. The vectors sit in panels of {@link #VECTORS}, interleaved once per product
 * ({@code packed[p*16*cols + c*16 + i]} is vector 16p+i's column c); {@link #ROWS} weight rows are
 * decoded {@link #CHUNK} columns at a time into {@code rows[j*CHUNK + c]}, a fixed stride, so the
 * four weights of a step sit at constant distances from one index. A step loads sixteen
 * activations as vectors, broadcasts four weights and does 4 x 16 multiply-adds into accumulators
 * that stay in registers. The weights need no transpose (the vectors, shared by every row, are
 * the ones interleaved), and the loop carries one index per operand, where
 * {@link FixedLaneDot#dot4x4} needs one per row and vector and holds twice the accumulators (its
 * sixteen fixed lanes are two 256-bit registers each), which C2 spills on a machine with sixteen
 * vector registers.
 *
 * <p>The bits differ from {@link FixedLaneDot#dot} (a chain per lane, then a fold), so a prefill
 * on quantized weights and a decode of the same positions differ in rounding, as they already did
 * by the decode's int8 activations ({@code MatMul}). F32, F16 and BF16 weights keep the fixed-lane
 * tile, whose products equal the decode's bit for bit.
 */
public final class PanelTile {

    /** Weight rows per tile. */
    public static final int ROWS = 4;
    /** Activation vectors per panel. */
    public static final int VECTORS = 16;
    /** Columns of a decoded chunk: four rows of 256 floats are 4 KB, a panel's chunk 16 KB. */
    public static final int CHUNK = 256;
    /** Floats of the decoded rows. */
    public static final int ROW_FLOATS = ROWS * CHUNK;
    /** Floats of one panel's accumulators. */
    public static final int PANEL_FLOATS = ROWS * VECTORS;

    private static final VectorSpecies<Float> SPECIES = FloatTensor.SPECIES;
    private static final int LEN = SPECIES == null ? VECTORS : SPECIES.length();

    private PanelTile() {
    }

    /** Panels of {@link #VECTORS} that hold {@code batch} vectors (the last one padded with zeros). */
    public static int panels(int batch) {
        return (batch + VECTORS - 1) / VECTORS;
    }

    /** Floats {@link #packVectors} writes for {@code batch} vectors of {@code cols} columns. */
    public static int packedFloats(int cols, int batch) {
        return panels(batch) * VECTORS * cols;
    }

    /** Interleaves vectors {@code x[t*cols ..]}, t in [0, batch), into panels of sixteen; missing vectors of the last panel are zeros. */
    public static void packVectors(float[] x, int cols, int batch, float[] packed) {
        for (int p = 0; p < panels(batch); p++) {
            int base = p * VECTORS * cols;
            for (int i = 0; i < VECTORS; i++) {
                int t = p * VECTORS + i;
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
     * {@code cols} columns) into {@code rows[j*CHUNK ..]}; rows past {@code nRows} are zeros.
     */
    public static void decodeRows(FloatTensor w, int row, int nRows, int cols, int col, int n, float[] rows) {
        for (int j = 0; j < ROWS; j++) {
            if (j < nRows) {
                w.copyTo((long) (row + j) * cols + col, rows, j * CHUNK, n);
            } else {
                java.util.Arrays.fill(rows, j * CHUNK, j * CHUNK + n, 0f);
            }
        }
    }

    /**
     * Continues the chains of {@code panels} panels with the decoded rows' {@code n} columns, which
     * are columns {@code [col, col+n)} of vectors of {@code cols} columns: {@code acc[p*64 + j*16 + i]}
     * is row j times vector 16p+i. Eight chains keep two multiply-add units busy through their
     * latency: at 256 bits a panel's 4 x 16 products are eight vectors; at 512 bits they are four,
     * so two panels run together.
     */
    public static void multiply(float[] rows, int n, float[] packed, int col, int cols, int panels, float[] acc) {
        int p = 0;
        if (SPECIES == null) {
            for (; p < panels; p++) {
                scalar(rows, n, packed, packedOffset(p, col, cols), acc, p * PANEL_FLOATS);
            }
        } else if (LEN == 8) {
            for (; p < panels; p++) {
                twoPart(rows, n, packed, packedOffset(p, col, cols), acc, p * PANEL_FLOATS);
            }
        } else {
            if (LEN == VECTORS) {
                for (; p + 2 <= panels; p += 2) {
                    twoPanels(rows, n, packed, packedOffset(p, col, cols), packedOffset(p + 1, col, cols), acc, p * PANEL_FLOATS);
                }
            }
            for (; p < panels; p++) {
                for (int part = 0; part < VECTORS; part += LEN) {
                    onePart(rows, n, packed, packedOffset(p, col, cols) + part, acc, p * PANEL_FLOATS + part);
                }
            }
        }
    }

    private static int packedOffset(int panel, int col, int cols) {
        return panel * VECTORS * cols + col * VECTORS;
    }

    /** 256 bits: sixteen vectors are two registers, eight accumulators. */
    private static void twoPart(float[] rows, int n, float[] packed, int xOff, float[] acc, int accOff) {
        java.util.Objects.checkFromIndexSize(accOff, PANEL_FLOATS, acc.length);
        java.util.Objects.checkFromIndexSize(0, 3 * CHUNK + n, rows.length);
        java.util.Objects.checkFromIndexSize(xOff, n * VECTORS, packed.length);
        FloatVector c00 = FloatVector.fromArray(SPECIES, acc, accOff);
        FloatVector c01 = FloatVector.fromArray(SPECIES, acc, accOff + 8);
        FloatVector c10 = FloatVector.fromArray(SPECIES, acc, accOff + 16);
        FloatVector c11 = FloatVector.fromArray(SPECIES, acc, accOff + 24);
        FloatVector c20 = FloatVector.fromArray(SPECIES, acc, accOff + 32);
        FloatVector c21 = FloatVector.fromArray(SPECIES, acc, accOff + 40);
        FloatVector c30 = FloatVector.fromArray(SPECIES, acc, accOff + 48);
        FloatVector c31 = FloatVector.fromArray(SPECIES, acc, accOff + 56);
        for (int c = 0; c < n; c++) {
            int xc = xOff + c * VECTORS;
            FloatVector x0 = FloatVector.fromArray(SPECIES, packed, xc);
            FloatVector x1 = FloatVector.fromArray(SPECIES, packed, xc + 8);
            FloatVector w = FloatVector.broadcast(SPECIES, rows[c]);
            c00 = x0.fma(w, c00);
            c01 = x1.fma(w, c01);
            w = FloatVector.broadcast(SPECIES, rows[c + CHUNK]);
            c10 = x0.fma(w, c10);
            c11 = x1.fma(w, c11);
            w = FloatVector.broadcast(SPECIES, rows[c + 2 * CHUNK]);
            c20 = x0.fma(w, c20);
            c21 = x1.fma(w, c21);
            w = FloatVector.broadcast(SPECIES, rows[c + 3 * CHUNK]);
            c30 = x0.fma(w, c30);
            c31 = x1.fma(w, c31);
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

    /** 512 bits: sixteen vectors are one register; two panels' eight accumulators. */
    private static void twoPanels(float[] rows, int n, float[] packed, int xOff, int yOff, float[] acc, int accOff) {
        java.util.Objects.checkFromIndexSize(accOff, 2 * PANEL_FLOATS, acc.length);
        java.util.Objects.checkFromIndexSize(0, 3 * CHUNK + n, rows.length);
        java.util.Objects.checkFromIndexSize(xOff, n * VECTORS, packed.length);
        java.util.Objects.checkFromIndexSize(yOff, n * VECTORS, packed.length);
        FloatVector c0 = FloatVector.fromArray(SPECIES, acc, accOff);
        FloatVector c1 = FloatVector.fromArray(SPECIES, acc, accOff + 16);
        FloatVector c2 = FloatVector.fromArray(SPECIES, acc, accOff + 32);
        FloatVector c3 = FloatVector.fromArray(SPECIES, acc, accOff + 48);
        FloatVector d0 = FloatVector.fromArray(SPECIES, acc, accOff + 64);
        FloatVector d1 = FloatVector.fromArray(SPECIES, acc, accOff + 80);
        FloatVector d2 = FloatVector.fromArray(SPECIES, acc, accOff + 96);
        FloatVector d3 = FloatVector.fromArray(SPECIES, acc, accOff + 112);
        for (int c = 0; c < n; c++) {
            FloatVector x = FloatVector.fromArray(SPECIES, packed, xOff + c * VECTORS);
            FloatVector y = FloatVector.fromArray(SPECIES, packed, yOff + c * VECTORS);
            FloatVector w = FloatVector.broadcast(SPECIES, rows[c]);
            c0 = x.fma(w, c0);
            d0 = y.fma(w, d0);
            w = FloatVector.broadcast(SPECIES, rows[c + CHUNK]);
            c1 = x.fma(w, c1);
            d1 = y.fma(w, d1);
            w = FloatVector.broadcast(SPECIES, rows[c + 2 * CHUNK]);
            c2 = x.fma(w, c2);
            d2 = y.fma(w, d2);
            w = FloatVector.broadcast(SPECIES, rows[c + 3 * CHUNK]);
            c3 = x.fma(w, c3);
            d3 = y.fma(w, d3);
        }
        c0.intoArray(acc, accOff);
        c1.intoArray(acc, accOff + 16);
        c2.intoArray(acc, accOff + 32);
        c3.intoArray(acc, accOff + 48);
        d0.intoArray(acc, accOff + 64);
        d1.intoArray(acc, accOff + 80);
        d2.intoArray(acc, accOff + 96);
        d3.intoArray(acc, accOff + 112);
    }

    /** Any other width (and a last single panel at 512 bits): vectors {@code [part, part+LEN)} of a panel as one register, four accumulators. */
    private static void onePart(float[] rows, int n, float[] packed, int xOff, float[] acc, int accOff) {
        FloatVector c0 = FloatVector.fromArray(SPECIES, acc, accOff);
        FloatVector c1 = FloatVector.fromArray(SPECIES, acc, accOff + VECTORS);
        FloatVector c2 = FloatVector.fromArray(SPECIES, acc, accOff + 2 * VECTORS);
        FloatVector c3 = FloatVector.fromArray(SPECIES, acc, accOff + 3 * VECTORS);
        for (int c = 0; c < n; c++) {
            FloatVector x = FloatVector.fromArray(SPECIES, packed, xOff + c * VECTORS);
            c0 = x.fma(FloatVector.broadcast(SPECIES, rows[c]), c0);
            c1 = x.fma(FloatVector.broadcast(SPECIES, rows[c + CHUNK]), c1);
            c2 = x.fma(FloatVector.broadcast(SPECIES, rows[c + 2 * CHUNK]), c2);
            c3 = x.fma(FloatVector.broadcast(SPECIES, rows[c + 3 * CHUNK]), c3);
        }
        c0.intoArray(acc, accOff);
        c1.intoArray(acc, accOff + VECTORS);
        c2.intoArray(acc, accOff + 2 * VECTORS);
        c3.intoArray(acc, accOff + 3 * VECTORS);
    }

    /** The reference: the order of the class comment in scalar code. */
    static void scalar(float[] rows, int n, float[] packed, int xOff, float[] acc, int accOff) {
        for (int j = 0; j < ROWS; j++) {
            for (int i = 0; i < VECTORS; i++) {
                float s = acc[accOff + j * VECTORS + i];
                for (int c = 0; c < n; c++) {
                    s = Math.fma(rows[j * CHUNK + c], packed[xOff + c * VECTORS + i], s);
                }
                acc[accOff + j * VECTORS + i] = s;
            }
        }
    }
}
