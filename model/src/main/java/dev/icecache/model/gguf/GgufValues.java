package dev.icecache.model.gguf;

import java.io.IOException;

import dev.icecache.model.ModelFormatException;

/**
 * GGUF metadata value types (spec ids 0..12) and how each is read; see {@link GgufMetadata}
 * for the Java types values become.
 */
final class GgufValues {

    static final int UINT8 = 0;
    static final int INT8 = 1;
    static final int UINT16 = 2;
    static final int INT16 = 3;
    static final int UINT32 = 4;
    static final int INT32 = 5;
    static final int FLOAT32 = 6;
    static final int BOOL = 7;
    static final int STRING = 8;
    static final int ARRAY = 9;
    static final int UINT64 = 10;
    static final int INT64 = 11;
    static final int FLOAT64 = 12;

    private GgufValues() {
    }

    /** Bytes of one value of a fixed-size type, 8 (the length prefix) for strings, -1 for arrays/unknown. */
    static int minSize(int type) {
        return switch (type) {
            case UINT8, INT8, BOOL -> 1;
            case UINT16, INT16 -> 2;
            case UINT32, INT32, FLOAT32 -> 4;
            case UINT64, INT64, FLOAT64, STRING -> 8;
            default -> -1;
        };
    }

    static Object read(ChannelReader in, String file, String key, int type) throws IOException {
        String what = "GGUF metadata '" + key + "'";
        return switch (type) {
            case UINT8, INT8 -> (byte) in.u8(what);
            case UINT16, INT16 -> in.i16(what);
            case UINT32, INT32 -> in.i32(what);
            case UINT64, INT64 -> in.i64(what);
            case FLOAT32 -> in.f32(what);
            case FLOAT64 -> in.f64(what);
            case BOOL -> readBool(in, file, what);
            case STRING -> in.string(what);
            case ARRAY -> readArray(in, file, key);
            default -> throw new ModelFormatException(file + ": " + what + ": value type=" + type
                    + " is not a GGUF type (0..12); file corrupt");
        };
    }

    private static boolean readBool(ChannelReader in, String file, String what) throws IOException {
        int b = in.u8(what);
        if (b > 1) {
            throw new ModelFormatException(file + ": " + what + ": bool value=" + b + " must be 0 or 1; file corrupt");
        }
        return b == 1;
    }

    private static Object readArray(ChannelReader in, String file, String key) throws IOException {
        String what = "GGUF metadata '" + key + "'";
        int type = in.i32(what + " array element type");
        int elementSize = minSize(type);
        if (elementSize < 0) {
            throw new ModelFormatException(file + ": " + what + ": array element type=" + type
                    + " is not supported (nested arrays or unknown type); file corrupt");
        }
        long count = in.i64(what + " array length");
        GgufFile.checkCount(file, "metadata '" + key + "' array length", count,
                Math.min(in.remaining() / elementSize, Integer.MAX_VALUE - 8));
        int n = (int) count;
        switch (type) {
            case UINT8, INT8 -> {
                byte[] a = new byte[n];
                in.bytes(a, 0, n, what);
                return a;
            }
            case BOOL -> {
                boolean[] a = new boolean[n];
                for (int i = 0; i < n; i++) {
                    a[i] = readBool(in, file, what);
                }
                return a;
            }
            case UINT16, INT16 -> {
                short[] a = new short[n];
                for (int i = 0; i < n; i++) {
                    a[i] = in.i16(what);
                }
                return a;
            }
            case UINT32, INT32 -> {
                int[] a = new int[n];
                for (int i = 0; i < n; i++) {
                    a[i] = in.i32(what);
                }
                return a;
            }
            case FLOAT32 -> {
                float[] a = new float[n];
                for (int i = 0; i < n; i++) {
                    a[i] = in.f32(what);
                }
                return a;
            }
            case UINT64, INT64 -> {
                long[] a = new long[n];
                for (int i = 0; i < n; i++) {
                    a[i] = in.i64(what);
                }
                return a;
            }
            case FLOAT64 -> {
                double[] a = new double[n];
                for (int i = 0; i < n; i++) {
                    a[i] = in.f64(what);
                }
                return a;
            }
            default -> {
                String[] a = new String[n];
                for (int i = 0; i < n; i++) {
                    a[i] = in.string(what + " element " + i);
                }
                return a;
            }
        }
    }
}
