package dev.icecache.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.icecache.model.gguf.GgufWriter;
import dev.icecache.model.synthetic.RandomModels;
import dev.icecache.model.tensor.GgmlType;

/** Each kind of bad model file gets its own one-line error naming the file, the field and the problem. */
class CorruptModelTest {

    private static final RandomModels.Shape SHAPE = new RandomModels.Shape(32, 64, 1, 2, 1, 360, 16);

    @TempDir
    Path dir;
    private byte[] valid;

    @BeforeEach
    void writeValidModel() throws IOException {
        Path file = dir.resolve("valid.gguf");
        RandomModels.write(file, SHAPE, GgmlType.Q8_0, 1, false);
        valid = Files.readAllBytes(file);
    }

    private String loadError(byte[] bytes) throws IOException {
        Path file = dir.resolve("bad.gguf");
        Files.write(file, bytes);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> LlamaModel.load(file, LoadOptions.defaults()));
        String msg = e.getMessage();
        assertTrue(msg.startsWith(file.toString() + ": "), "message names the file: " + msg);
        assertEquals(-1, msg.indexOf('\n'), "one line: " + msg);
        return msg;
    }

    @Test
    void shouldNameTheLastTensorWhenTheFileIsTruncated() throws IOException {
        String msg = loadError(Arrays.copyOf(valid, valid.length - 100));
        assertTrue(msg.contains("GGUF tensor 'output.weight'") && msg.contains("exceeds file size=" + (valid.length - 100))
                && msg.contains("file truncated or corrupt"), msg);
    }

    @Test
    void shouldReportTruncationInsideTheHeader() throws IOException {
        int cut = indexOf(valid, "tokenizer.ggml.tokens".getBytes()) + 3500;
        String msg = loadError(Arrays.copyOf(valid, cut));
        assertTrue(msg.contains("GGUF metadata 'tokenizer.ggml.tokens'") && msg.contains("file size=" + cut)
                && msg.contains("truncated"), msg);
    }

    @Test
    void shouldRejectWrongMagicAsLlama2cHeaderMismatch() throws IOException {
        byte[] bytes = valid.clone();
        bytes[0] = 'X';
        String msg = loadError(bytes);
        // without the GGUF magic the file is read as llama2.c, whose header cannot match
        assertTrue(msg.contains("llama2.c header") && msg.contains("does not start with the GGUF magic"), msg);
    }

    @Test
    void shouldRejectWrongGgufVersion() throws IOException {
        byte[] bytes = valid.clone();
        bytes[4] = 2;
        assertTrue(loadError(bytes).contains("GGUF version=2 is not supported"));
    }

    @Test
    void shouldRejectOversizedTensorCount() throws IOException {
        byte[] bytes = valid.clone();
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(8, 1L << 40);
        String msg = loadError(bytes);
        assertTrue(msg.contains("tensor_count=1099511627776 exceeds what the file size allows"), msg);
    }

    @Test
    void shouldRejectOversizedMetadataArrayBeforeAllocating() throws IOException {
        byte[] bytes = valid.clone();
        // the token list's length field: after its key, the u32 array type and u32 element type
        int key = indexOf(bytes, "tokenizer.ggml.tokens".getBytes());
        int lengthAt = key + "tokenizer.ggml.tokens".length() + 8;
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(lengthAt, Long.MAX_VALUE / 2);
        String msg = loadError(bytes);
        assertTrue(msg.contains("metadata 'tokenizer.ggml.tokens' array length=" + Long.MAX_VALUE / 2), msg);
    }

    @Test
    void shouldRejectUnsupportedTensorTypeByName() throws IOException {
        byte[] bytes = valid.clone();
        // the type id follows name, n_dims and the two dims of the first tensor
        int name = indexOf(bytes, "token_embd.weight".getBytes());
        int typeAt = name + "token_embd.weight".length() + 4 + 16;
        assertEquals(GgmlType.Q8_0.id(), bytes[typeAt]);
        bytes[typeAt] = 23;
        String msg = loadError(bytes);
        assertTrue(msg.contains("GGUF tensor 'token_embd.weight'") && msg.contains("IQ4_XS (id=23) is not supported"), msg);
    }

    @Test
    void shouldRejectTensorWhoseShapeDisagreesWithTheConfig() throws IOException {
        GgufWriter w = new GgufWriter()
                .putString("general.architecture", "llama")
                .putUInt32("llama.context_length", 16)
                .putUInt32("llama.embedding_length", 32)
                .putUInt32("llama.feed_forward_length", 64)
                .putUInt32("llama.block_count", 1)
                .putUInt32("llama.attention.head_count", 2)
                .putUInt32("llama.attention.head_count_kv", 1);
        w.addTensor("token_embd.weight", GgmlType.F32, new long[] {32, 360}, new float[32 * 360]);
        w.addTensor("output_norm.weight", GgmlType.F32, new long[] {32}, new float[32]);
        w.addTensor("blk.0.attn_norm.weight", GgmlType.F32, new long[] {32}, new float[32]);
        w.addTensor("blk.0.attn_q.weight", GgmlType.F32, new long[] {32, 32}, new float[32 * 32]);
        w.addTensor("blk.0.attn_k.weight", GgmlType.F32, new long[] {32, 32}, new float[32 * 32]); // needs [32, 16]
        Path file = dir.resolve("shape.gguf");
        w.write(file);
        String msg = loadError(Files.readAllBytes(file));
        assertTrue(msg.contains("GGUF tensor 'blk.0.attn_k.weight' has shape=[32, 32] but the model config needs [32, 16]"), msg);
    }

    @Test
    void shouldRejectTruncatedLlama2cCheckpoint() throws IOException {
        Path bin = TestModels.require("stories260K/stories260K.bin");
        byte[] bytes = Files.readAllBytes(bin);
        String msg = loadError(Arrays.copyOf(bytes, bytes.length - 4));
        assertTrue(msg.contains("implies size=" + bytes.length) && msg.contains("file size=" + (bytes.length - 4)), msg);
    }

    @Test
    void shouldRejectLlama2cHeaderWithNonPositiveField() throws IOException {
        byte[] bytes = new byte[64];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 64).putInt(4, -3);
        assertTrue(loadError(bytes).contains("has a non-positive field"));
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
        throw new AssertionError("not found: " + new String(needle));
    }
}
