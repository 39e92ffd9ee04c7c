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
 *   margin    -> count is a token id t, the prompt is "ids;disabled;range;iterations;piece" (ids and
 *                disabled space-separated, piece t's text): llama.cpp's logit of t minus the largest
 *                other logit after exactly those ids, the disabled tokens excluded, as a decimal
 * </pre>
 * The margin is found by bisection on a logit bias on t (java-llama.cpp 4.1.0 does not expose
 * logits, and its {@code n_probs} reads keys this llama.cpp build no longer writes): greedy
 * decoding picks t with bias b exactly when b is at least minus the margin. Each probe is one
 * token of greedy decoding on a prompt given as token ids, without prompt caching; the result
 * is clamped to [-range, range] and accurate to range / 2^(iterations-1).
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

    private static float margin(LlamaModel llama, int target, String[] spec) throws ReflectiveOperationException {
        String ids = "[" + spec[0].trim().replace(' ', ',') + "]";
        float range = Float.parseFloat(spec[2]);
        int iterations = Integer.parseInt(spec[3]);
        String piece = spec[4];
        StringBuilder disabled = new StringBuilder();
        for (String id : spec[1].trim().split(" ")) {
            if (!id.isEmpty()) {
                disabled.append(",[").append(id).append(",false]");
            }
        }
        if (picks(llama, ids, disabled, target, -range, piece)) {
            return range;
        }
        if (!picks(llama, ids, disabled, target, range, piece)) {
            return -range;
        }
        float loses = -range;
        float wins = range;
        for (int i = 0; i < iterations; i++) {
            float mid = (loses + wins) / 2;
            if (picks(llama, ids, disabled, target, mid, piece)) {
                wins = mid;
            } else {
                loses = mid;
            }
        }
        return -(loses + wins) / 2;
    }

    /** Whether one greedy token after {@code ids}, with {@code bias} on {@code target}, prints {@code piece}. */
    private static boolean picks(LlamaModel llama, String ids, CharSequence disabled, int target, float bias,
            String piece) throws ReflectiveOperationException {
        InferenceParameters params = new InferenceParameters("").setNPredict(1).setTemperature(0f).setSeed(1)
                .setCachePrompt(true).setRepeatPenalty(1f).setFrequencyPenalty(0f).setPresencePenalty(0f);
        // java-llama.cpp takes only text prompts and maps of biases; the server also takes token ids
        java.lang.reflect.Field field = params.getClass().getSuperclass().getDeclaredField("parameters");
        field.setAccessible(true);
        @SuppressWarnings("unchecked")
        java.util.Map<String, String> json = (java.util.Map<String, String>) field.get(params);
        json.put("prompt", ids);
        json.put("logit_bias", "[[" + target + "," + bias + "]" + disabled + "]");
        StringBuilder text = new StringBuilder();
        for (LlamaOutput out : llama.generate(params)) {
            text.append(out.text);
        }
        return text.toString().equals(piece);
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
                } else if (parts[0].equals("margin")) {
                    out.write(Float.toString(margin(llama, Integer.parseInt(parts[1]), prompt.split(";", 5))));
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
