package dev.icecache.job.progress;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** Rendering and rate limiting of {@link ProgressMeter}, on a hand-driven clock. */
class ProgressMeterTest {

    private long now;
    private final List<String> lines = new ArrayList<>();

    private ProgressMeter meter(boolean terminal) {
        return new ProgressMeter(terminal, lines::add, () -> now, 1_000_000_000L);
    }

    @Test
    void shouldLogRateFromPhaseStartAtMostOncePerInterval() {
        ProgressMeter m = meter(false);
        m.startPhase("prefill");
        now = 500_000_000L;
        m.update(100, 1000, Double.NaN); // within the first second: held back
        now = 2_000_000_000L;
        m.update(400, 1000, 0.5);       // 400 tokens in 2 s
        now = 2_500_000_000L;
        m.update(450, 1000, 0.5);       // 0.5 s after the last line: held back
        assertEquals(List.of("prefill 400/1000 tokens, 200.0 tokens/s, resident hit rate 0.50"), lines);
    }

    @Test
    void shouldAlwaysShowTheLastStepOfAPhase() {
        ProgressMeter m = meter(false);
        m.startPhase("decode");
        now = 250_000_000L;
        m.update(10, 10, Double.NaN);   // 10 tokens in 0.25 s, done: shown despite the interval
        assertEquals(List.of("decode 10/10 tokens, 40.0 tokens/s"), lines);
    }

    @Test
    void shouldDrawABarProportionalToDoneAndEndItsLine() {
        ProgressMeter m = meter(true);
        m.startPhase("prefill");
        now = 1_000_000_000L;
        m.update(256, 1024, Double.NaN); // a quarter: 5 of 20 cells
        m.endLine();
        assertEquals(List.of("\rprefill [#####---------------]   256/1024 tokens  256.0 tokens/s", System.lineSeparator()),
                lines);
    }

    @Test
    void shouldShowACountWithoutBarWhenTheTotalIsUnknown() {
        assertEquals("\rdecode 7 tokens  3.5 tokens/s  hit 0.25", ProgressMeter.bar("decode", 7, 0, 3.5, 0.25));
    }

    @Test
    void shouldSumJobCountersIntoOneLine() {
        assertEquals("prefill 1200 tokens (300.0 tokens/s), decode 64 tokens (16.0 tokens/s), 2 documents finished",
                JobProgressReporter.line(1200, 300, 64, 16, 2));
    }
}
