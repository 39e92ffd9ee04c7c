package dev.icecache.model.fuzz;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * One seeded change to a valid file: the kinds a corrupt download, a bad converter or a hostile
 * author produce. Positions favour the first {@link #HEADER_BYTES} bytes, where every count,
 * length and offset lives; the rest of a model file is tensor data, which any bytes fill
 * legally.
 *
 * @param kind what was done, for the failure message
 * @param bytes the mutated file
 */
record Mutation(String kind, byte[] bytes) {

    /** The region most mutations hit: headers, metadata and tensor tables of the corpus files. */
    static final int HEADER_BYTES = 1 << 16;

    private static final long[] BOUNDARY_32 = {0, 0xFFL, 0x7FFF_FFFFL, 0xFFFF_FFFFL, 0x8000_0000L, 1};
    private static final long[] BOUNDARY_64 = {0, -1L, Long.MAX_VALUE, Long.MIN_VALUE, 0x7FFF_FFFFL, 0xFFFF_FFFFL};

    /** A random mutation of {@code valid} (which is not changed). */
    static Mutation of(byte[] valid, RandomGenerator r) {
        byte[] b = valid.clone();
        int pos = position(b.length, r);
        return switch (r.nextInt(7)) {
            case 0 -> {
                int flips = 1 + r.nextInt(8);
                for (int i = 0; i < flips; i++) {
                    int p = position(b.length, r);
                    b[p] ^= (byte) (1 << r.nextInt(8));
                }
                yield new Mutation(flips + " bit flips from offset " + pos, b);
            }
            case 1 -> {
                byte v = r.nextBoolean() ? 0 : (byte) 0xFF;
                int n = 1 + r.nextInt(8);
                Arrays.fill(b, pos, Math.min(b.length, pos + n), v);
                yield new Mutation(n + " bytes=" + (v & 0xff) + " at " + pos, b);
            }
            case 2 -> {
                long v = BOUNDARY_32[r.nextInt(BOUNDARY_32.length)];
                int at = Math.min(pos & ~3, b.length - 4);
                ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(at, (int) v);
                yield new Mutation("u32=0x" + Long.toHexString(v) + " at " + at, b);
            }
            case 3 -> {
                long v = BOUNDARY_64[r.nextInt(BOUNDARY_64.length)];
                int at = Math.max(0, Math.min(pos, b.length - 8));
                ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(at, v);
                yield new Mutation("u64=0x" + Long.toHexString(v) + " at " + at, b);
            }
            case 4 -> {
                int keep = r.nextInt(4) == 0 ? r.nextInt(Math.min(b.length, 64)) : pos;
                yield new Mutation("truncated to " + keep + " of " + b.length, Arrays.copyOf(b, keep));
            }
            case 5 -> inflateLength(b, r);
            default -> duplicateChunk(b, pos, r);
        };
    }

    /**
     * Finds a small little-endian u64 or u32 (a plausible count or length) near a random header
     * position and multiplies it up, or sets it to just past what the file could hold.
     */
    private static Mutation inflateLength(byte[] b, RandomGenerator r) {
        ByteBuffer in = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int limit = Math.min(b.length, HEADER_BYTES) - 8;
        int start = limit <= 0 ? 0 : r.nextInt(limit);
        for (int at = start; at < limit; at++) {
            long v = in.getLong(at);
            if (v > 0 && v < (1L << 20)) {
                long inflated = switch (r.nextInt(4)) {
                    case 0 -> v + 1;
                    case 1 -> v * 1000;
                    case 2 -> (long) b.length + 1;
                    default -> v << 32;
                };
                in.putLong(at, inflated);
                return new Mutation("length " + v + " -> " + inflated + " at " + at, b);
            }
            int w = in.getInt(at);
            if (w > 0 && w < (1 << 16)) {
                int inflated = r.nextBoolean() ? w * 4096 : w + b.length;
                in.putInt(at, inflated);
                return new Mutation("u32 length " + w + " -> " + inflated + " at " + at, b);
            }
        }
        return new Mutation("no length field found (unchanged)", b);
    }

    /** Copies a slice of the file and inserts the copy elsewhere (the file grows). */
    private static Mutation duplicateChunk(byte[] b, int pos, RandomGenerator r) {
        int len = Math.min(b.length - pos, 1 + r.nextInt(256));
        int insertAt = position(b.length, r);
        byte[] out = new byte[b.length + len];
        System.arraycopy(b, 0, out, 0, insertAt);
        System.arraycopy(b, pos, out, insertAt, len);
        System.arraycopy(b, insertAt, out, insertAt + len, b.length - insertAt);
        return new Mutation("chunk [" + pos + ", " + (pos + len) + ") duplicated at " + insertAt, out);
    }

    private static int position(int size, RandomGenerator r) {
        int bound = r.nextInt(5) == 0 ? size : Math.min(size, HEADER_BYTES);
        return bound <= 1 ? 0 : r.nextInt(bound);
    }
}
