package dev.icecache.model;

import java.lang.management.ManagementFactory;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;

import com.sun.management.HotSpotDiagnosticMXBean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Java releases the engine runs on. Its kernels use the Vector API as Java 17 ships it
 * ({@code jdk.incubator.vector}, reading weights with {@code ByteVector.fromByteBuffer}); Java 19
 * replaced those methods by memory-segment ones, so on 19 and later the first matrix product
 * failed with a {@code NoSuchMethodError} stack trace. {@link LlamaModel#load} checks first and
 * says what to do in one line instead.
 *
 * <p>It also checks one JIT setting, {@code -XX:PerMethodTrapLimit}. C2 stops speculating on a
 * call's receiver class for the rest of a compile once the class-check traps recorded in the
 * methods it has inlined add up to that limit (100 by default), and it adds each inlined method's
 * count once per call it inlines. The Vector API's shared methods ({@code lanewiseTemplate},
 * {@code ImplCache.find}) each record a few such traps while a JVM warms up, depending on which
 * vector classes reached them first, so a kernel with sixteen vector operations can cross the limit
 * in one JVM and not in the next. Past it, the species of the kernel's last stores is no longer a
 * constant, their intrinsics fail, and every vector on their path is boxed on the heap: the 1k
 * prefill ran at 0.4-0.6 of llama.cpp instead of 0.8-1.0 in half the JVMs (BENCHMARKS.md, "The
 * intermittent boxing: C2's per-method trap limit"). The launcher, the shipped Flink configuration
 * and the tests pass {@link #TRAP_LIMIT_FLAG}; a JVM started without it gets one warning.
 */
public final class JavaRuntime {

    private static final Logger LOG = LoggerFactory.getLogger(JavaRuntime.class);

    /** The newest Java release whose Vector API has the buffer methods the kernels call. */
    static final int NEWEST_SUPPORTED = 18;

    /** The per-method trap limit the engine's JVMs run with (C2's default is 100). */
    public static final long TRAP_LIMIT = 10_000;

    /** The JVM flag that sets {@link #TRAP_LIMIT}. */
    public static final String TRAP_LIMIT_FLAG = "-XX:PerMethodTrapLimit=" + TRAP_LIMIT;

    private static final AtomicBoolean JIT_CHECKED = new AtomicBoolean();

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

    /** Logs one warning per JVM when C2's per-method trap limit is below {@link #TRAP_LIMIT} (see the class comment). */
    public static void checkJitSettings() {
        if (JIT_CHECKED.compareAndSet(false, true)) {
            jitWarning().ifPresent(LOG::warn);
        }
    }

    /** The one-line warning for this JVM's per-method trap limit, if it is below {@link #TRAP_LIMIT}. */
    public static Optional<String> jitWarning() {
        return jitAdvice(perMethodTrapLimit());
    }

    /** This JVM's {@code PerMethodTrapLimit}, or empty where the JVM has no such option (not HotSpot). */
    static OptionalLong perMethodTrapLimit() {
        try {
            HotSpotDiagnosticMXBean hotSpot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            return hotSpot == null ? OptionalLong.empty()
                    : OptionalLong.of(Long.parseLong(hotSpot.getVMOption("PerMethodTrapLimit").getValue()));
        } catch (IllegalArgumentException | LinkageError | SecurityException notHotSpot) {
            return OptionalLong.empty();
        }
    }

    /** The one-line warning for a JVM whose per-method trap limit is {@code limit}, if it is too low. */
    static Optional<String> jitAdvice(OptionalLong limit) {
        if (limit.isEmpty() || limit.getAsLong() >= TRAP_LIMIT) {
            return Optional.empty();
        }
        return Optional.of("this JVM runs with -XX:PerMethodTrapLimit=" + limit.getAsLong() + ", so C2 may box the"
                + " engine's vector kernels on the heap in some runs (about half the speed): add " + TRAP_LIMIT_FLAG
                + " to its flags (bin/icecache and flink-conf/config.yaml pass it; elsewhere use JAVA_OPTS or"
                + " env.java.opts.all)");
    }
}
