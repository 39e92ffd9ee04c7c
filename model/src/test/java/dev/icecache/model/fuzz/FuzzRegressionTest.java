package dev.icecache.model.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.ModelFormatException;
import dev.icecache.model.TestModels;

/**
 * Inputs {@link ModelFileFuzzTest} found crashing a loader with an undocumented exception, rebuilt
 * deterministically from the shared models; each must now be a one-line {@link ModelFormatException}.
 */
class FuzzRegressionTest {

    @TempDir
    Path dir;

    private String loadError(Path model, LoadOptions options) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> LlamaModel.load(model, options));
        assertEquals(-1, e.getMessage().indexOf('\n'), "one line: " + e.getMessage());
        return e.getMessage();
    }

    /** Fuzz seed 485272661: 8 zero bytes at offset 517 of tok512.bin made an IllegalArgumentException escape load. */
    @Test
    void shouldReportACorruptTokenizerBinAsAModelFormatError() throws IOException {
        byte[] tokenizer = Files.readAllBytes(TestModels.require("stories260K/tok512.bin"));
        Arrays.fill(tokenizer, 517, 525, (byte) 0);
        Path bad = Files.write(dir.resolve("tokenizer.bin"), tokenizer);
        String msg = loadError(TestModels.require("stories260K/stories260K.bin"), new LoadOptions(bad, 0));
        assertTrue(msg.contains(bad.toString()) && msg.contains("max_token_length") && msg.contains("file corrupt"), msg);
    }

    /** Fuzz seed 485272809: a NaN token score made the tokenizer's IllegalArgumentException escape load. */
    @Test
    void shouldReportANanTokenScoreAsAModelFormatError() throws IOException {
        byte[] gguf = Files.readAllBytes(TestModels.require("stories260K/stories260Ktok512.gguf"));
        byte[] key = "tokenizer.ggml.scores".getBytes(StandardCharsets.US_ASCII);
        // key bytes, u32 value type (array), u32 element type (f32), u64 count, then the scores
        int scores = indexOf(gguf, key) + key.length + 4 + 4 + 8;
        ByteBuffer.wrap(gguf).order(ByteOrder.LITTLE_ENDIAN).putFloat(scores + 4 * 5, Float.NaN);
        Path bad = Files.write(dir.resolve("nan-score.gguf"), gguf);
        String msg = loadError(bad, LoadOptions.defaults());
        assertTrue(msg.startsWith(bad + ": vocabulary: ") && msg.contains("token 5") && msg.contains("NaN"), msg);
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found: " + new String(needle, StandardCharsets.US_ASCII));
    }
}
