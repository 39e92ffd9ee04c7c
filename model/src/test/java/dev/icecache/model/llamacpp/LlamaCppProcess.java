package dev.icecache.model.llamacpp;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Starts {@link LlamaCppOracle} in a forked JVM on the test class path and collects its answers. */
final class LlamaCppProcess {

    private static final long TIMEOUT_SECONDS = 600;

    private final List<String> requests = new ArrayList<>();

    /** Asks for the ids of {@code prompt} (no BOS). */
    LlamaCppProcess tokenize(String prompt) {
        requests.add("tokenize\t0\t" + base64(prompt));
        return this;
    }

    /** Asks for the greedy continuation of BOS + {@code prompt}, at most {@code tokens} tokens. */
    LlamaCppProcess generate(String prompt, int tokens) {
        requests.add("generate\t" + tokens + "\t" + base64(prompt));
        return this;
    }

    /**
     * Asks for llama.cpp's logit of {@code target} minus the largest other logit after exactly
     * {@code ids} (BOS included), with the {@code disabled} tokens excluded; {@code piece} is the
     * text llama.cpp prints for {@code target}. Clamped to [-range, range].
     */
    LlamaCppProcess margin(int[] ids, int[] disabled, int target, String piece, float range, int iterations) {
        String spec = join(ids) + ";" + join(disabled) + ";" + range + ";" + iterations + ";" + piece;
        requests.add("margin\t" + target + "\t" + base64(spec));
        return this;
    }

    private static String join(int[] ids) {
        StringBuilder text = new StringBuilder();
        for (int id : ids) {
            text.append(text.length() == 0 ? "" : " ").append(id);
        }
        return text.toString();
    }

    /**
     * Runs every request against {@code model}; answers in request order (ids as text for
     * tokenize, the continuation text for generate).
     *
     * @throws IllegalStateException with the tail of the oracle's log when it fails or times out
     */
    List<String> run(Path model, int threads, int context, Path workDir) throws IOException, InterruptedException {
        Path requestFile = workDir.resolve("requests.txt");
        Path resultFile = workDir.resolve("results.txt");
        Path log = workDir.resolve("llama-cpp.log");
        Files.write(requestFile, requests, StandardCharsets.UTF_8);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // Each oracle unpacks libjllama.so into a folder of its own: under the default (java.io.tmpdir)
        // two JVMs running at once replace one /tmp/libjllama.so while the other maps it (SIGBUS). Not
        // workDir itself: the loader deletes every file there whose name starts with "llama" or "jllama".
        Path natives = Files.createDirectories(workDir.resolve("native"));
        Process process = new ProcessBuilder(java, "-Xmx256m", "-Dde.kherud.llama.tmpdir=" + natives.toAbsolutePath(),
                "-cp", System.getProperty("java.class.path"),
                LlamaCppOracle.class.getName(), model.toString(), requestFile.toString(), resultFile.toString(),
                String.valueOf(threads), String.valueOf(context))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("llama.cpp oracle did not finish within " + TIMEOUT_SECONDS + " s; log: "
                    + tail(log));
        }
        if (process.exitValue() != 0) {
            throw new IllegalStateException("llama.cpp oracle exited with status " + process.exitValue() + "; log: "
                    + tail(log));
        }
        List<String> lines = Files.readAllLines(resultFile, StandardCharsets.UTF_8);
        List<String> answers = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            String line = i < lines.size() ? lines.get(i) : "";
            boolean generate = requests.get(i).startsWith("generate");
            answers.add(generate ? new String(Base64.getDecoder().decode(line), StandardCharsets.UTF_8) : line);
        }
        return answers;
    }

    private static String base64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private static String tail(Path log) throws IOException {
        if (!Files.exists(log)) {
            return "(no log)";
        }
        String text = Files.readString(log, StandardCharsets.ISO_8859_1);
        return text.substring(Math.max(0, text.length() - 2000)).replace('\n', '|');
    }
}
