package dev.icecache.kvcache;

/**
 * Always-on argument and state checks for public kvcache methods (style.md rule 8).
 * Inner-loop facts use {@code assert}; anything a caller can get wrong comes through here.
 */
public final class Checks {

    private Checks() {
    }

    /** Throws {@link IllegalArgumentException} with the formatted message when {@code cond} is false. */
    public static void checkArgument(boolean cond, String fmt, Object... args) {
        if (!cond) {
            throw new IllegalArgumentException(String.format(fmt, args));
        }
    }

    /** Throws {@link IllegalStateException} with the formatted message when {@code cond} is false. */
    public static void checkState(boolean cond, String fmt, Object... args) {
        if (!cond) {
            throw new IllegalStateException(String.format(fmt, args));
        }
    }

    // Fixed-arity int overloads: on the per-token path the varargs forms above would box their
    // arguments and allocate an Object[] on every call, even when the check passes.

    /** {@link #checkArgument(boolean, String, Object...)} without allocation when the check passes. */
    public static void checkArgument(boolean cond, String fmt, int a) {
        if (!cond) {
            throw new IllegalArgumentException(String.format(fmt, a));
        }
    }

    /** {@link #checkArgument(boolean, String, Object...)} without allocation when the check passes. */
    public static void checkArgument(boolean cond, String fmt, int a, int b) {
        if (!cond) {
            throw new IllegalArgumentException(String.format(fmt, a, b));
        }
    }

    /** {@link #checkArgument(boolean, String, Object...)} without allocation when the check passes. */
    public static void checkArgument(boolean cond, String fmt, int a, int b, int c) {
        if (!cond) {
            throw new IllegalArgumentException(String.format(fmt, a, b, c));
        }
    }

    /** {@link #checkState(boolean, String, Object...)} without allocation when the check passes. */
    public static void checkState(boolean cond, String fmt, int a) {
        if (!cond) {
            throw new IllegalStateException(String.format(fmt, a));
        }
    }

    /** {@link #checkState(boolean, String, Object...)} without allocation when the check passes. */
    public static void checkState(boolean cond, String fmt, int a, int b) {
        if (!cond) {
            throw new IllegalStateException(String.format(fmt, a, b));
        }
    }

    /** {@link #checkState(boolean, String, Object...)} without allocation when the check passes. */
    public static void checkState(boolean cond, String fmt, int a, int b, int c) {
        if (!cond) {
            throw new IllegalStateException(String.format(fmt, a, b, c));
        }
    }

    /** Checks {@code 0 <= index < size}; the message reports both. */
    public static int checkIndex(int index, int size) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException("index=" + index + " size=" + size);
        }
        return index;
    }

    /** Checks that {@code [offset, offset+length)} lies inside an array of {@code capacity}, in long arithmetic. */
    public static void checkRange(long offset, long length, long capacity) {
        if (offset < 0 || length < 0 || offset + length > capacity) {
            throw new IndexOutOfBoundsException("offset=" + offset + " length=" + length + " capacity=" + capacity);
        }
    }

    /**
     * The common precondition of {@link KvCache#append}: rows arrive in order per layer and stay
     * inside the context. Shared by every cache so they fail with the same messages.
     *
     * @param expected the layer's current length (the only position it accepts next)
     */
    public static void checkAppend(CacheShape shape, int layer, int position, int expected) {
        checkIndex(layer, shape.nLayers());
        checkState(position == expected, "append out of order: layer=%d position=%d expected=%d",
                layer, position, expected);
        checkArgument(position < shape.maxTokens(),
                "position=%d exceeds maxTokens=%d; raise the context length", position, shape.maxTokens());
    }

    /**
     * Checks an attend of the block {@code position .. position+n-1} of a layer with
     * {@code appended} positions, and the ranges of its n query and output rows of {@code shape.qDim()}.
     */
    public static void checkAttendBlock(CacheShape shape, int layer, int position, int n, int appended, float[] q,
                                        int qOff, float[] out, int outOff) {
        checkIndex(layer, shape.nLayers());
        int last = position + n - 1;
        if (n < 1 || position < 0 || last >= appended) {
            throw new IllegalStateException(n == 1
                    ? String.format("attend before append: layer=%d position=%d appended=%d", layer, position,
                            appended)
                    : String.format("attend block before append: layer=%d positions=%d..%d appended=%d", layer,
                            position, last, appended));
        }
        checkRange(qOff, (long) n * shape.qDim(), q.length);
        checkRange(outOff, (long) n * shape.qDim(), out.length);
    }
}
