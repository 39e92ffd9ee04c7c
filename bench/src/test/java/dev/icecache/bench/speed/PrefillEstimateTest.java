package dev.icecache.bench.speed;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.icecache.bench.llamacpp.LlamaCppContextBenchmark;
import java.util.List;
import org.junit.jupiter.api.Test;

class PrefillEstimateTest {

    private static LlamaCppContextBenchmark.Result measured(int context, double prefillSeconds) {
        return new LlamaCppContextBenchmark.Result(context, context + 1, prefillSeconds, new double[] {50, 50, 50, 50, 50}, 50);
    }

    @Test
    void shouldScaleQuadraticallyFromOneMeasuredContext() {
        assertEquals(160, estimate(List.of(measured(1024, 10)), 4096), 1e-9);
    }

    @Test
    void shouldFollowThePowerLawThroughTheLastTwoContexts() {
        // 10 s at 1k, 80 s at 4k: exponent log(8)/log(4) = 1.5, so 16k takes 80 * 4^1.5 = 640 s
        assertEquals(640, estimate(List.of(measured(1024, 10), measured(4096, 80)), 16384), 1e-9);
    }

    @Test
    void shouldNeverEstimateBelowLinearGrowth() {
        // a noisy pair that shrank would give a negative exponent; linear is the floor
        assertEquals(200, estimate(List.of(measured(1024, 60), measured(4096, 50)), 16384), 1e-9);
    }

    private static double estimate(List<LlamaCppContextBenchmark.Result> rows, int context) {
        return SpeedCommand.estimatePrefillSeconds(rows, context);
    }
}
