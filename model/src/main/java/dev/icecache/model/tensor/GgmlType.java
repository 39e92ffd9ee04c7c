package dev.icecache.model.tensor;

/**
 * The ggml tensor element types this engine reads and writes, with their GGUF type ids and
 * block layout (ggml's {@code ggml_type_traits}): a tensor of n elements is n / blockSize
 * blocks of typeSize bytes each.
 *
 * <pre>
 *   F32   1 element,  4 bytes   IEEE binary32
 *   F16   1 element,  2 bytes   IEEE binary16
 *   BF16  1 element,  2 bytes   upper half of a binary32
 *   Q8_0  32 elements, 34 bytes f16 scale d, then 32 int8 q;        x = d * q
 *   Q4_0  32 elements, 18 bytes f16 scale d, then 16 bytes of nibbles: byte j holds element j
 *                               (low nibble) and element j+16 (high nibble); x = d * (nibble - 8)
 *   Q5_0  32 elements, 22 bytes f16 d, u32 fifth bits, nibbles as Q4_0;   x = d * (q5 - 16)
 *   Q5_1  32 elements, 24 bytes f16 d, f16 m, u32 fifth bits, nibbles;    x = d * q5 + m
 *   Q4_K 256 elements, 144 bytes  f16 d, f16 dmin, 6-bit scales/mins of 8 sub-blocks, 4-bit quants
 *   Q5_K 256 elements, 176 bytes  as Q4_K plus 32 bytes of fifth bits
 *   Q6_K 256 elements, 210 bytes  4-bit low and 2-bit high quants, 16 int8 scales, f16 d
 * </pre>
 * Each quantized type's class ({@link Q4_KTensor}, ...) documents its exact layout.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    Q8_0(8, 32, 34),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    BF16(30, 1, 2);

    /** Names of the ggml type ids this engine does not support, for error messages (index = id). */
    private static final String[] GGML_NAMES = {
        "F32", "F16", "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K",
        "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S",
        "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M", "BF16", "Q4_0_4_4", "Q4_0_4_8",
        "Q4_0_8_8", "TQ1_0", "TQ2_0", "IQ4_NL_4_4", "IQ4_NL_4_8", "IQ4_NL_8_8", "MXFP4"};

    private final int id;
    private final int blockSize;
    private final int typeSize;

    GgmlType(int id, int blockSize, int typeSize) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
    }

    /** The GGUF/ggml type id. */
    public int id() {
        return id;
    }

    /** Elements per block. */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int typeSize() {
        return typeSize;
    }

    /**
     * Bytes that {@code n} elements occupy.
     *
     * @throws IllegalArgumentException when n is negative or not a multiple of the block size
     * @throws ArithmeticException when the size overflows a long
     */
    public long byteSizeFor(long n) {
        if (n < 0 || n % blockSize != 0) {
            throw new IllegalArgumentException(
                    "element count=" + n + " is not a non-negative multiple of " + name() + " block size=" + blockSize);
        }
        return Math.multiplyExact(n / blockSize, (long) typeSize);
    }

    /** The supported types' names, comma-separated, for error messages. */
    public static String supportedNames() {
        StringBuilder names = new StringBuilder();
        for (GgmlType t : values()) {
            names.append(names.length() == 0 ? "" : ", ").append(t.name());
        }
        return names.toString();
    }

    /** The supported type with this id, or null when the id is unknown or unsupported. */
    public static GgmlType byId(int id) {
        for (GgmlType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }

    /** ggml's name for a type id (also for unsupported ones), or "unknown" for ids ggml does not define. */
    public static String ggmlName(int id) {
        return id >= 0 && id < GGML_NAMES.length ? GGML_NAMES[id] : "unknown";
    }
}
