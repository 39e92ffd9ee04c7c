package dev.icecache.model.llamacpp;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.ModelParameters;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;

/**
 * Runs llama.cpp (java-llama.cpp) in its own JVM for the parity tests and ends it with
 * {@link Runtime#halt}, because closing the native model can hang.
 *
 * <pre>
 * args: model-file requests-file results-file threads context
 * request line: kind TAB count TAB base64(UTF-8 prompt)
 *   tokenize  -> the prompt's ids (no BOS, special tokens parsed), space-separated
 *   generate  -> base64(UTF-8) of the greedy continuation of BOS + prompt, count tokens at most
 * </pre>
 * One result line per request, in order. Exit status 0 when all ran, 2 on any error.
 */
public final class LlamaCppOracle {

    private LlamaCppOracle() {
    }

    public static void main(String[] args) {
        int status = 2;
        try {
            run(Path.of(args[0]), Path.of(args[1]), Path.of(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]));
            status = 0;
        } catch (Throwable t) {
            System.err.println("LlamaCppOracle failed: " + t);
            t.printStackTrace(System.err);
        } finally {
            System.out.flush();
            System.err.flush();
            Runtime.getRuntime().halt(status);
        }
    }

    private static void run(Path model, Path requests, Path results, int threads, int context) throws Exception {
        LlamaModel.setLogger(null, (level, message) -> { });
        LlamaModel llama = new LlamaModel(new ModelParameters().setModel(model.toString()).setThreads(threads)
                .setThreadsBatch(threads).setCtxSize(context).setSeed(1));
        Base64.Decoder decoder = Base64.getDecoder();
        Base64.Encoder encoder = Base64.getEncoder();
        List<String> lines = Files.readAllLines(requests, StandardCharsets.UTF_8);
        try (BufferedWriter out = Files.newBufferedWriter(results, StandardCharsets.UTF_8)) {
            for (String line : lines) {
                String[] parts = line.split("\t", -1);
                String prompt = new String(decoder.decode(parts[2]), StandardCharsets.UTF_8);
                if (parts[0].equals("tokenize")) {
                    StringBuilder ids = new StringBuilder();
                    for (int id : llama.encode(prompt)) {
                        ids.append(ids.length() == 0 ? "" : " ").append(id);
                    }
                    out.write(ids.toString());
                } else {
                    InferenceParameters params = new InferenceParameters(prompt).setNPredict(Integer.parseInt(parts[1]))
                            .setTemperature(0f).setSeed(1).setCachePrompt(false);
                    StringBuilder text = new StringBuilder();
                    for (LlamaOutput piece : llama.generate(params)) {
                        text.append(piece.text);
                    }
                    out.write(encoder.encodeToString(text.toString().getBytes(StandardCharsets.UTF_8)));
                }
                out.newLine();
            }
        }
    }
}
