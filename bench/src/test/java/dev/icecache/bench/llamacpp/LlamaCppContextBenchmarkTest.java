package dev.icecache.bench.llamacpp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LlamaCppContextBenchmarkTest {

    private static final String OUTPUT = String.join("\n",
            "prompt eval time =       9.00 ms /    17 tokens (    0.53 ms per token,  1888.89 tokens per second)",
            "       eval time =      30.00 ms /     3 tokens (   10.00 ms per token,   100.00 tokens per second)",
            "warmup done",
            "prompt eval time =   40000.00 ms /  4097 tokens (    9.76 ms per token,   102.43 tokens per second)",
            "       eval time =     330.00 ms /     6 runs   (   55.00 ms per token,    18.18 tokens per second)",
            "prefill 41.25",
            "step 60.5",
            "step 52.0",
            "step 54.0",
            "step 58.0",
            "step 51.5",
            "step 53.0",
            "");

    @Test
    void shouldReadTheLongGenerationsFiguresAfterTheWarmup() {
        LlamaCppContextBenchmark.Result r = LlamaCppContextBenchmark.parse(OUTPUT, 4096, 6);
        assertEquals(4096, r.context());
        assertEquals(4097, r.promptTokens());
        assertEquals(41.25, r.prefillSeconds());
        assertArrayEquals(new double[] {60.5, 52.0, 54.0, 58.0, 51.5, 53.0}, r.stepMs());
        assertEquals(55.0, r.evalMsPerToken(), 1e-12);
        assertEquals(53.5, r.medianStepMs(), 1e-12, "median of 51.5 52 53 54 58 60.5");
    }

    @Test
    void shouldRefuseOutputWithTooFewSteps() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> LlamaCppContextBenchmark.parse(OUTPUT, 4096, 8));
        assertTrue(e.getMessage().startsWith("llama.cpp output at context 4096 has 1 prefill lines, 6 step lines"
                + " (expected 1 and 8)"), e.getMessage());
    }
}
