package dev.icecache.model;

/**
 * The Java releases the engine runs on. Its kernels use the Vector API as Java 17 ships it
 * ({@code jdk.incubator.vector}, reading weights with {@code ByteVector.fromByteBuffer}); Java 19
 * replaced those methods by memory-segment ones, so on 19 and later the first matrix product
 * failed with a {@code NoSuchMethodError} stack trace. {@link LlamaModel#load} checks first and
 * says what to do in one line instead.
 */
public final class JavaRuntime {

    /** The newest Java release whose Vector API has the buffer methods the kernels call. */
    static final int NEWEST_SUPPORTED = 18;

    private JavaRuntime() {
    }

    /** Throws unless this JVM is a Java release the kernels run on. */
    public static void requireSupported() {
        requireSupported(Runtime.version().feature());
    }

    /** Throws {@link IllegalStateException} naming the release and the fix when {@code feature} is too new. */
    static void requireSupported(int feature) {
        if (feature > NEWEST_SUPPORTED) {
            throw new IllegalStateException("this JVM is Java " + feature + "; the engine's kernels need the Vector API"
                    + " of Java 17 (ByteVector.fromByteBuffer, removed in Java 19): run it on a Java 17 JDK"
                    + " (bin/icecache: set JAVA to its java; Flink: set the TaskManagers' JAVA_HOME)");
        }
    }
}
