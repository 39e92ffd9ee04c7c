package dev.icecache.bench.llamacpp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class LlamaCppDecodeBenchmarkTest {

    private static final String OUTPUT = String.join("\n",
            "slot print_timing: id  0 | task 0 | ",
            "prompt eval time =       4.30 ms /     5 tokens (    0.86 ms per token,  1162.79 tokens per second)",
            "       eval time =      80.00 ms /    64 tokens (    1.25 ms per token,   800.00 tokens per second)",
            "warmup 700.0",
            "prompt eval time =       4.00 ms /     5 tokens (    0.80 ms per token,  1250.00 tokens per second)",
            "       eval time =     128.00 ms /    64 tokens (    2.00 ms per token,   500.00 tokens per second)",
            "wall 450.5",
            "       eval time =      64.00 ms /    64 tokens (    1.00 ms per token,  1000.00 tokens per second)",
            "wall 900.25",
            "");

    @Test
    void shouldReadEvalTimesAfterWarmupAndWallFigures() {
        LlamaCppDecodeBenchmark.Result result = LlamaCppDecodeBenchmark.parse(OUTPUT, 2);
        assertArrayEquals(new double[] {500, 1000}, result.evalTime().tokensPerSecond(), 1e-9);
        assertArrayEquals(new double[] {450.5, 900.25}, result.wall().tokensPerSecond(), 1e-9);
    }

    @Test
    void shouldRefuseOutputWithMissingRuns() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> LlamaCppDecodeBenchmark.parse(OUTPUT, 3));
        assertEquals("llama.cpp output has 3 eval-time lines and 2 wall lines; expected 4 and 3 "
                + "(java-llama.cpp changed its logging?)", e.getMessage());
    }

    @Test
    void shouldTakeMedianOfOddAndEvenRunCounts() {
        assertEquals(3.0, new DecodeSpeed("x", new double[] {5, 1, 3}).median());
        assertEquals(2.5, new DecodeSpeed("x", new double[] {4, 1, 3, 2}).median());
    }
}
