package dev.icecache.bench.llamacpp;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * llama.cpp's decode latency at one long context: starts {@link LlamaCppContextRun} in a forked
 * JVM (prefill once, then time each decode step) and reads its output.
 */
public final class LlamaCppContextBenchmark {

    private static final Pattern PROMPT_EVAL = Pattern.compile(
            "(?m)^\\s*prompt eval time =\\s*([0-9.]+) ms /\\s*([0-9]+) (?:tokens|runs)");
    private static final Pattern PREFILL = Pattern.compile("(?m)^prefill ([0-9.Ee+-]+)$");
    private static final Pattern STEP = Pattern.compile("(?m)^step ([0-9.Ee+-]+)$");
    private static final long TIMEOUT_MINUTES = 60;

    /**
     * One context's figures.
     *
     * @param context the prompt length asked for, in words (one token each)
     * @param promptTokens prompt tokens llama.cpp evaluated (its {@code prompt eval} line)
     * @param prefillSeconds wall time from the request to the first token
     * @param stepMs wall time of each decode step after the prefill, in order
     * @param evalMsPerToken llama.cpp's own mean decode time per token over the same steps
     */
    public record Result(int context, int promptTokens, double prefillSeconds, double[] stepMs, double evalMsPerToken) {

        public Result {
            stepMs = stepMs.clone();
        }

        /** The median decode step in ms (mean of the middle two for an even count). */
        public double medianStepMs() {
            double[] s = stepMs.clone();
            Arrays.sort(s);
            int n = s.length;
            return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        }
    }

    private LlamaCppContextBenchmark() {
    }

    /** Prefills {@code prompt} once at {@code context} and times {@code steps} decode steps. */
    public static Result measure(Path model, String prompt, int context, int steps, int threads)
            throws IOException, InterruptedException {
        Path log = Files.createTempFile("icecache-llamacpp-", ".log");
        try {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process process = new ProcessBuilder(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                    LlamaCppContextRun.class.getName(), model.toString(), prompt,
                    String.valueOf(context + steps + 64), String.valueOf(steps), String.valueOf(threads))
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new IllegalStateException("llama.cpp prefill at context " + context + " did not finish within "
                        + TIMEOUT_MINUTES + " minutes; drop that context from --llamacpp-contexts");
            }
            String output = Files.readString(log, StandardCharsets.ISO_8859_1);
            if (process.exitValue() != 0) {
                throw new IllegalStateException("llama.cpp run exited with status " + process.exitValue() + ": "
                        + output.substring(Math.max(0, output.length() - 1500)).replace('\n', '|'));
            }
            return parse(output, context, steps);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** The long generation's figures from the run's output (the warm-up's timing lines come first and are skipped). */
    static Result parse(String output, int context, int steps) {
        List<Double> stepMs = all(STEP, output);
        List<Double> prefill = all(PREFILL, output);
        Matcher promptEval = PROMPT_EVAL.matcher(output);
        int promptTokens = -1;
        while (promptEval.find()) {
            promptTokens = Integer.parseInt(promptEval.group(2));
        }
        Matcher eval = LlamaCppDecodeBenchmark.EVAL_TIME.matcher(output);
        double evalMs = Double.NaN;
        while (eval.find()) {
            evalMs = Double.parseDouble(eval.group(1)) / Integer.parseInt(eval.group(2));
        }
        if (prefill.size() != 1 || stepMs.size() != steps || promptTokens < 0 || Double.isNaN(evalMs)) {
            throw new IllegalStateException("llama.cpp output at context " + context + " has " + prefill.size()
                    + " prefill lines, " + stepMs.size() + " step lines (expected 1 and " + steps + ")"
                    + (promptTokens < 0 ? ", no prompt-eval line" : "") + (Double.isNaN(evalMs) ? ", no eval-time line" : "")
                    + "; java-llama.cpp changed its logging or stopped early?");
        }
        double[] times = new double[stepMs.size()];
        for (int i = 0; i < times.length; i++) {
            times[i] = stepMs.get(i);
        }
        return new Result(context, promptTokens, prefill.get(0), times, evalMs);
    }

    private static List<Double> all(Pattern p, String output) {
        List<Double> out = new ArrayList<>();
        Matcher m = p.matcher(output);
        while (m.find()) {
            out.add(Double.parseDouble(m.group(1)));
        }
        return out;
    }
}
