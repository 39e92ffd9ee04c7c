package dev.icecache.bench.llamacpp;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Decode speed of llama.cpp through java-llama.cpp: starts {@link LlamaCppDecodeRun} in a
 * forked JVM on this class path and reads llama.cpp's own {@code eval time} lines (decode
 * only, prompt excluded) and the streamed wall-clock figures from its output.
 */
public final class LlamaCppDecodeBenchmark {

    /** llama.cpp's timing line, e.g. {@code eval time = 81.14 ms / 64 tokens (...)}; "prompt eval" lines do not match. */
    static final Pattern EVAL_TIME = Pattern.compile("(?m)^\\s*eval time =\\s*([0-9.]+) ms /\\s*([0-9]+) (?:tokens|runs)");
    private static final Pattern WALL = Pattern.compile("(?m)^wall ([0-9.Ee+-]+)$");
    private static final long TIMEOUT_MINUTES = 60;

    /** Both llama.cpp figures of one benchmark. */
    public record Result(DecodeSpeed evalTime, DecodeSpeed wall) {
    }

    private LlamaCppDecodeBenchmark() {
    }

    public static Result measure(Path model, String prompt, int context, int tokens, int threads, int runs)
            throws IOException, InterruptedException {
        Path log = Files.createTempFile("icecache-llamacpp-", ".log");
        try {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process process = new ProcessBuilder(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                    LlamaCppDecodeRun.class.getName(), model.toString(), prompt, String.valueOf(context),
                    String.valueOf(tokens), String.valueOf(threads), String.valueOf(runs))
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new IllegalStateException("llama.cpp run did not finish within " + TIMEOUT_MINUTES
                        + " minutes; lower --tokens or --runs");
            }
            String output = Files.readString(log, StandardCharsets.ISO_8859_1);
            if (process.exitValue() != 0) {
                throw new IllegalStateException("llama.cpp run exited with status " + process.exitValue() + ": "
                        + output.substring(Math.max(0, output.length() - 1500)).replace('\n', '|'));
            }
            return parse(output, runs);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** The figures of {@code runs} measured runs from the run's output (the first, warm-up, dropped). */
    static Result parse(String output, int runs) {
        List<Double> eval = new ArrayList<>();
        Matcher m = EVAL_TIME.matcher(output);
        while (m.find()) {
            eval.add(Integer.parseInt(m.group(2)) / (Double.parseDouble(m.group(1)) / 1000));
        }
        List<Double> wall = new ArrayList<>();
        Matcher w = WALL.matcher(output);
        while (w.find()) {
            wall.add(Double.parseDouble(w.group(1)));
        }
        if (eval.size() != runs + 1 || wall.size() != runs) {
            throw new IllegalStateException("llama.cpp output has " + eval.size() + " eval-time lines and " + wall.size()
                    + " wall lines; expected " + (runs + 1) + " and " + runs + " (java-llama.cpp changed its logging?)");
        }
        return new Result(new DecodeSpeed("llama.cpp", toArray(eval.subList(1, eval.size()))),
                new DecodeSpeed("llama.cpp (streamed)", toArray(wall)));
    }

    private static double[] toArray(List<Double> values) {
        double[] out = new double[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i);
        }
        return out;
    }
}
