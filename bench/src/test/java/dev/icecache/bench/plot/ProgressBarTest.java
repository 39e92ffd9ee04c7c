package dev.icecache.bench.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressBarTest {

    @Test
    void shouldFillInProportionToStepsDone() {
        assertTrue(ProgressBar.line(1, 3, "x").startsWith("[" + "#".repeat(10) + ".".repeat(20) + "] 1/3 x"));
        assertTrue(ProgressBar.line(3, 3, "x").startsWith("[" + "#".repeat(30) + "] 3/3 x"));
    }

    @Test
    void shouldEndTheLineAfterTheLastStepOnly() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), 2);
        bar.step("a");
        assertEquals(-1, bytes.toString(StandardCharsets.UTF_8).indexOf('\n'));
        bar.step("b");
        assertTrue(bytes.toString(StandardCharsets.UTF_8).endsWith("\n"));
    }

    @Test
    void shouldRejectZeroSteps() {
        assertThrows(IllegalArgumentException.class, () -> ProgressBar.stderr(0));
    }
}
