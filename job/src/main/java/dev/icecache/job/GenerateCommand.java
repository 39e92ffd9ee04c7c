package dev.icecache.job;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import dev.icecache.job.progress.ProgressMeter;
import dev.icecache.job.progress.ProgressMode;
import dev.icecache.kvcache.FullCache;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.chat.ChatMessage;
import dev.icecache.model.tokenizer.TokenType;
import java.util.ArrayList;
import java.util.List;
import dev.icecache.model.Sampler;
import dev.icecache.model.Session;
import dev.icecache.model.tokenizer.Tokenizer;

/**
 * {@code icecache generate}: continues a prompt with a model (full KV cache), printing the text
 * as it is generated and a tokens/s line on stderr.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Continue a prompt with a Llama 3 / Qwen 2 / Qwen 3 model (GGUF, or llama2.c .bin + --tokenizer).",
        footer = {"", "Examples:",
            "  icecache generate --model ../shared/models/stories260K/stories260Ktok512.gguf --context 512 \\",
            "      --prompt \"Once upon a time\" --max-tokens 100",
            "  icecache generate --model model.gguf --prompt \"The sea\" --temperature 0.8 --top-p 0.95 --seed 7",
            "  icecache generate --model stories260K.bin --tokenizer tok512.bin --context 512",
            "  icecache generate --model Qwen3-1.7B-Q4_K_M.gguf --chat --system \"Answer briefly.\" --prompt \"Why is the sky blue?\""})
public final class GenerateCommand implements Callable<Integer> {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(GenerateCommand.class);

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "FILE", description = "GGUF file or llama2.c .bin checkpoint (required; no default).")
    Path model;

    @Option(names = "--prompt", defaultValue = "", paramLabel = "TEXT", description = "Text to continue (default: empty, start from BOS).")
    String prompt;

    @Option(names = "--chat", description = "Format the prompt as a user message with the model's chat template"
            + " (GGUF tokenizer.chat_template) and add the assistant's turn; the reply ends at the end-of-turn token"
            + " (default: off, the prompt is raw text).")
    boolean chat;

    @Option(names = "--system", paramLabel = "TEXT", description = "System message before the user message; needs --chat"
            + " (default: none).")
    String system;

    @Option(names = "--max-tokens", defaultValue = "256", paramLabel = "N", description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0", paramLabel = "T", description = "Sampling temperature; 0 = greedy (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-p", defaultValue = "0.9", paramLabel = "P", description = "Nucleus mass in (0, 1] when sampling (default: ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--seed", defaultValue = "42", paramLabel = "S", description = "Random seed for sampling (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--context", defaultValue = "0", paramLabel = "N", description = "Context length overriding the model file's; 0 = the file's (default: ${DEFAULT-VALUE}).")
    int context;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.bin of a llama2.c .bin model (default: none; GGUF files carry their own).")
    Path tokenizerFile;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N", description = "Compute threads; 0 = all processors (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--progress", defaultValue = "AUTO", paramLabel = "MODE",
            description = "Prefill and decode progress on stderr: ${COMPLETION-CANDIDATES}; AUTO draws a bar on a"
                    + " terminal, else logs a line every few seconds (default: ${DEFAULT-VALUE}).")
    ProgressMode progress;

    @Override
    public Integer call() throws IOException {
        validate();
        if (threads > 0) {
            // read once when the shared compute pool is created during the load below
            System.setProperty("icecache.threads", Integer.toString(threads));
        }
        PrintStream out = System.out;
        try (LlamaModel llama = LlamaModel.load(model, new LoadOptions(tokenizerFile, context))) {
            Tokenizer tokenizer = llama.tokenizer();
            int[] promptTokens = chat ? chatTokens(llama, tokenizer) : promptTokens(tokenizer, llama.vocabulary().addBos());
            if (promptTokens.length == 0) {
                throw new IllegalArgumentException("empty prompt and the vocabulary has no BOS token; pass --prompt TEXT");
            }
            if (promptTokens.length >= llama.config().contextLength()) {
                throw new IllegalArgumentException("prompt of " + promptTokens.length + " tokens does not fit the context length="
                        + llama.config().contextLength() + "; shorten it or raise --context");
            }
            Session session = llama.newSession(new FullCache(llama.cacheShape()));
            Sampler sampler = new Sampler(temperature, topP, seed);
            ProgressMeter meter = meter();
            long start = System.nanoTime();
            float[] logits = prefill(session, promptTokens, meter);
            meter.startPhase("decode");
            long prefilled = System.nanoTime();
            int previous = promptTokens[promptTokens.length - 1];
            int generated = 0;
            int steps = 0; // forward passes after the prompt; the first token comes from the prompt's logits
            while (generated < maxTokens && session.position() < llama.config().contextLength()) {
                int token = sampler.sample(logits);
                generated++;
                if (token == tokenizer.eos() || (chat && isControl(llama, token))) {
                    break; // end of text, or of the assistant's turn (<|eot_id|>, <|im_end|>)
                }
                printPiece(out, tokenizer, previous, token);
                previous = token;
                if (generated < maxTokens && session.position() < llama.config().contextLength()) {
                    logits = session.step(token);
                    steps++;
                    meter.update(steps, maxTokens - 1L, Double.NaN);
                }
            }
            meter.endLine();
            out.println();
            out.flush();
            double seconds = (System.nanoTime() - prefilled) / 1e9;
            String rate = steps == 0 ? "no decode steps"
                    : String.format(Locale.ROOT, "%.1f tokens/s over %d decode steps", steps / Math.max(seconds, 1e-9), steps);
            System.err.printf(Locale.ROOT, "generated %d tokens in %.2f s (%s); prompt %d tokens in %.2f s%n",
                    generated, seconds, rate, promptTokens.length, (prefilled - start) / 1e9);
        }
        return 0;
    }

    /** Runs the prompt in slices of whole engine batches (same result as one call) to show progress. */
    private static float[] prefill(Session session, int[] tokens, ProgressMeter meter) {
        int slice = 4 * Session.PREFILL_BATCH;
        meter.startPhase("prefill");
        for (int done = 0; done < tokens.length - slice; done += slice) {
            session.prefill(tokens, done, slice, false);
            meter.update(done + slice, tokens.length, Double.NaN);
        }
        int from = session.position();
        float[] logits = session.prefill(tokens, from, tokens.length - from, true);
        meter.update(tokens.length, tokens.length, Double.NaN);
        return logits;
    }

    /** The meter {@code --progress} asks for; the full cache has no hit rate to show. */
    private ProgressMeter meter() {
        boolean bar = progress.drawsBar();
        java.util.function.Consumer<String> sink = progress == ProgressMode.OFF ? line -> { }
                : bar ? line -> { System.err.print(line); System.err.flush(); } : LOG::info;
        return new ProgressMeter(bar, sink, System::nanoTime, bar ? 200_000_000L : 5_000_000_000L);
    }

    /**
     * The prompt as a chat: [system,] user message through the model's template, with the
     * generation prompt; BOS first when the vocabulary adds one and the template did not write it.
     */
    private int[] chatTokens(LlamaModel llama, Tokenizer tokenizer) {
        List<ChatMessage> messages = new ArrayList<>();
        if (system != null) {
            messages.add(ChatMessage.system(system));
        }
        messages.add(ChatMessage.user(prompt));
        int[] ids = llama.chatTemplate().encode(tokenizer, messages, true);
        boolean addBos = llama.vocabulary().addBos() && tokenizer.bos() >= 0 && (ids.length == 0 || ids[0] != tokenizer.bos());
        if (!addBos) {
            return ids;
        }
        int[] withBos = new int[ids.length + 1];
        withBos[0] = tokenizer.bos();
        System.arraycopy(ids, 0, withBos, 1, ids.length);
        return withBos;
    }

    /** Whether a token is a control token of the vocabulary (a chat's end of turn is one). */
    private static boolean isControl(LlamaModel llama, int token) {
        int[] types = llama.vocabulary().tokenTypes();
        return types != null && token < types.length && types[token] == TokenType.CONTROL;
    }

    private int[] promptTokens(Tokenizer tokenizer, boolean addBos) {
        int[] text = prompt.isEmpty() ? new int[0] : tokenizer.encode(prompt);
        boolean bos = (addBos || prompt.isEmpty()) && tokenizer.bos() >= 0;
        int[] tokens = new int[text.length + (bos ? 1 : 0)];
        if (bos) {
            tokens[0] = tokenizer.bos();
        }
        System.arraycopy(text, 0, tokens, bos ? 1 : 0, text.length);
        return tokens;
    }

    /** Writes a token's bytes; SentencePiece's leading space right after BOS is dropped, as llama2.c does. */
    private static void printPiece(PrintStream out, Tokenizer tokenizer, int previous, int token) {
        byte[] bytes = tokenizer.tokenBytes(token);
        int from = previous == tokenizer.bos() && bytes.length > 0 && bytes[0] == ' ' ? 1 : 0;
        out.write(bytes, from, bytes.length - from);
        out.flush();
    }

    private void validate() {
        CommandLine cli = spec.commandLine();
        if (maxTokens < 0) {
            throw new CommandLine.ParameterException(cli, "--max-tokens=" + maxTokens + " must be >= 0");
        }
        if (!(temperature >= 0f) || Float.isInfinite(temperature)) {
            throw new CommandLine.ParameterException(cli, "--temperature=" + temperature + " must be a finite number >= 0");
        }
        if (!(topP > 0f && topP <= 1f)) {
            throw new CommandLine.ParameterException(cli, "--top-p=" + topP + " must be within (0, 1]");
        }
        if (system != null && !chat) {
            throw new CommandLine.ParameterException(cli, "--system needs --chat (the system message goes through the"
                    + " model's chat template)");
        }
        if (context < 0) {
            throw new CommandLine.ParameterException(cli, "--context=" + context + " must be >= 0 (0 = from the model file)");
        }
        if (threads < 0 || threads > 1024) {
            throw new CommandLine.ParameterException(cli, "--threads=" + threads + " must be within [0, 1024] (0 = all processors)");
        }
    }
}
