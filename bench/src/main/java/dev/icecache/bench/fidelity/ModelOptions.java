package dev.icecache.bench.fidelity;

import java.io.IOException;
import java.nio.file.Path;

import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The model a quality benchmark runs ({@code --model}, {@code --context}, {@code --tokenizer}), as a picocli mixin. */
public final class ModelOptions {

    @Option(names = "--model", required = true, paramLabel = "FILE", description = "GGUF file or llama2.c .bin checkpoint.")
    Path model;

    @Option(names = "--context", defaultValue = "0", paramLabel = "N", description = "Context length overriding the model file's (default: ${DEFAULT-VALUE} = from the file).")
    int context;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.bin of a llama2.c .bin model (default: none; a GGUF file carries its vocabulary).")
    Path tokenizerFile;

    /** The model file as given. */
    public Path file() {
        return model;
    }

    /** Rejects a negative context as a usage error of {@code cli}. */
    public void validate(CommandLine cli) {
        if (context < 0) {
            throw new CommandLine.ParameterException(cli, "--context=" + context + " must be >= 0 (0 = from the model file)");
        }
    }

    /** Loads the model with the given context and tokenizer. */
    public LlamaModel load() throws IOException {
        return LlamaModel.load(model, new LoadOptions(tokenizerFile, context));
    }
}
