package dev.icecache.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.icecache.model.TestModels;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Llama2cTokenizerFileTest {

    @TempDir
    Path dir;

    @Test
    void shouldReadStoriesVocabularyInGgufForm() throws IOException {
        Vocabulary v = Llama2cTokenizerFile.read(TestModels.require("stories260K/tok512.bin"), 512);
        assertEquals(512, v.size());
        assertEquals("llama", v.model());
        assertEquals("<s>", v.tokens()[1]);
        assertEquals("</s>", v.tokens()[2]);
        assertEquals("\u2581t", v.tokens()[259]);
        assertEquals(TokenType.BYTE, v.tokenTypes()[3 + 0x41]);
        assertEquals(TokenType.CONTROL, v.tokenTypes()[1]);
        assertEquals(TokenType.UNKNOWN, v.tokenTypes()[0]);
        assertEquals(-1f, v.scores()[260]);
    }

    @Test
    void shouldDecodeStoriesReferenceGenerationToItsText() throws IOException {
        Tokenizer tokenizer = Tokenizers.create(Llama2cTokenizerFile.read(TestModels.require("stories260K/tok512.bin"), 512));
        int[] ids = readIds(TestModels.require("stories260K/reference-greedy.ids"));
        String expected = Files.readString(TestModels.require("stories260K/reference-greedy.txt"));
        String decoded = tokenizer.decode(ids);
        assertEquals(expected.strip(), decoded.substring(1).strip());
        assertEquals(' ', decoded.charAt(0));
    }

    @Test
    void shouldRoundTripRandomUnicodeOnRealVocabularies() throws IOException {
        long seed = 77L;
        Random random = new Random(seed);
        for (String[] model : new String[][] {{"stories260K/tok512.bin", "512"}, {"iceeval-1m/tokenizer.bin", "2048"}}) {
            Tokenizer tokenizer = Tokenizers.create(Llama2cTokenizerFile.read(TestModels.require(model[0]),
                    Integer.parseInt(model[1])));
            for (int i = 0; i < 200; i++) {
                String text = randomUnicode(random, random.nextInt(40));
                assertEquals(text.isEmpty() ? "" : " " + text, tokenizer.decode(tokenizer.encode(text)),
                        "seed=" + seed + " model=" + model[0] + " i=" + i);
            }
        }
    }

    static String randomUnicode(Random random, int length) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < length; i++) {
            int kind = random.nextInt(6);
            if (kind == 0) {
                sb.appendCodePoint(0x1F300 + random.nextInt(0x300));
            } else if (kind == 1) {
                sb.appendCodePoint(0xA0 + random.nextInt(0x2000));
            } else if (kind == 2) {
                sb.append(" \n\t".charAt(random.nextInt(3)));
            } else {
                sb.append((char) (0x21 + random.nextInt(0x5E)));
            }
        }
        // U+2581 decodes to a space by design
        return sb.toString().replace('\u2581', '_');
    }

    static int[] readIds(Path file) throws IOException {
        return Arrays.stream(Files.readString(file).trim().split("\\s+")).mapToInt(Integer::parseInt).toArray();
    }

    @Test
    void shouldRejectTruncatedFile() throws IOException {
        Path file = write(tokenizerBytes(3, 5, "<unk>", "<s>", "</s>"), 20);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Llama2cTokenizerFile.read(file, 3));
        assertEquals("tokenizer " + file + ": token 1 score and length needs 8 bytes at offset=17 but the file has "
                + "size=20; file truncated or the vocab_size is wrong", e.getMessage());
    }

    @Test
    void shouldRejectLengthBeyondMaxTokenLength() throws IOException {
        Path file = write(tokenizerBytes(3, 4, "<unk>", "<s>", "</s>"), -1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Llama2cTokenizerFile.read(file, 3));
        assertEquals("tokenizer " + file + ": token 0 length=5 is outside [0, max_token_length=4]; file corrupt",
                e.getMessage());
    }

    @Test
    void shouldRejectNegativeLength() throws IOException {
        byte[] bytes = tokenizerBytes(3, 5, "<unk>", "<s>", "</s>");
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(8, -7);
        Path file = write(bytes, -1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Llama2cTokenizerFile.read(file, 3));
        assertEquals("tokenizer " + file + ": token 0 length=-7 is outside [0, max_token_length=5]; file corrupt",
                e.getMessage());
    }

    @Test
    void shouldRejectVocabSizeSmallerThanFile() throws IOException {
        Path file = write(tokenizerBytes(4, 5, "<unk>", "<s>", "</s>", "a"), -1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Llama2cTokenizerFile.read(file, 3));
        assertEquals("tokenizer " + file + ": 9 bytes follow token 2; the model's vocab_size=3 does not match this tokenizer",
                e.getMessage());
    }

    @Test
    void shouldRejectTooSmallVocabSize() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Llama2cTokenizerFile.read(dir.resolve("x.bin"), 2));
        assertEquals("tokenizer " + dir.resolve("x.bin") + ": vocab_size=2 must be at least 3 (unk, bos, eos); check the model header",
                e.getMessage());
    }

    @Test
    void shouldRestoreSpacesAsWordMarks() throws IOException {
        Vocabulary v = Llama2cTokenizerFile.read(write(tokenizerBytes(5, 7, "<unk>", "\n<s>\n", "\n</s>\n", " a", "<0x0A>"), -1), 5);
        assertArrayEquals(new String[] {"<unk>", "<s>", "</s>", "\u2581a", "<0x0A>"}, v.tokens());
        assertArrayEquals(new int[] {TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL, TokenType.NORMAL, TokenType.BYTE},
                v.tokenTypes());
    }

    private Path write(byte[] bytes, int keep) throws IOException {
        Path file = dir.resolve("tokenizer.bin");
        Files.write(file, keep < 0 ? bytes : Arrays.copyOf(bytes, keep));
        return file;
    }

    private static byte[] tokenizerBytes(int count, int maxLength, String... pieces) {
        ByteBuffer out = ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(maxLength);
        for (int i = 0; i < count; i++) {
            byte[] piece = pieces[i].getBytes(StandardCharsets.UTF_8);
            out.putFloat(-i);
            out.putInt(piece.length);
            out.put(piece);
        }
        return Arrays.copyOf(out.array(), out.position());
    }
}
