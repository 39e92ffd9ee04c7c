package dev.icecache.model;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
}
