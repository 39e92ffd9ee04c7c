package dev.icecache.model;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import java.util.OptionalLong;

import org.junit.jupiter.api.Test;

class JavaRuntimeTest {

    @Test
    void shouldAcceptTheReleasesWhoseVectorApiHasTheBufferMethods() {
        assertDoesNotThrow(() -> JavaRuntime.requireSupported(17));
        assertDoesNotThrow(() -> JavaRuntime.requireSupported(18));
        // the JVM running this test is one of them (the build pins 17)
        assertDoesNotThrow(() -> JavaRuntime.requireSupported());
    }

    @Test
    void shouldRefuseNewerReleasesInOneLineThatSaysWhatToDo() {
        for (int feature : new int[] {19, 21, 25}) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> JavaRuntime.requireSupported(feature));
            assertTrue(e.getMessage().startsWith("this JVM is Java " + feature + ";"), e.getMessage());
            assertTrue(e.getMessage().contains("run it on a Java 17 JDK"), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        }
    }

    @Test
    void shouldWarnInOneLineNamingTheFlagWhenTheTrapLimitIsC2sDefault() {
        String advice = JavaRuntime.jitAdvice(OptionalLong.of(100)).orElseThrow();
        assertTrue(advice.startsWith("this JVM runs with -XX:PerMethodTrapLimit=100,"), advice);
        assertTrue(advice.contains("add -XX:PerMethodTrapLimit=10000 "), advice);
        assertTrue(!advice.contains("\n"), "one line: " + advice);
        assertTrue(JavaRuntime.jitAdvice(OptionalLong.of(JavaRuntime.TRAP_LIMIT - 1)).isPresent());
    }

    @Test
    void shouldStayQuietAtTheEnginesLimitOrOnAJvmWithoutTheOption() {
        assertEquals(Optional.empty(), JavaRuntime.jitAdvice(OptionalLong.of(JavaRuntime.TRAP_LIMIT)));
        assertEquals(Optional.empty(), JavaRuntime.jitAdvice(OptionalLong.of(1_000_000)));
        assertEquals(Optional.empty(), JavaRuntime.jitAdvice(OptionalLong.empty()));
    }

    @Test
    void shouldReadTheLimitTheBuildsTestJvmsRunWith() {
        // the root pom's test.jvm.args pass the launcher's flag, so the kernels' tests run as users' JVMs do
        assertEquals(OptionalLong.of(JavaRuntime.TRAP_LIMIT), JavaRuntime.perMethodTrapLimit());
    }
}
