package dev.icecache.model.tokenizer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads llama2.c's {@code tokenizer.bin} into a {@link Vocabulary}.
 *
 * <pre>
 * int32 max_token_length
 * vocab_size times: float32 score, int32 length, length bytes of UTF-8 piece
 * </pre>
 * Little-endian. llama2.c's exporter writes spaces where SentencePiece has U+2581 and wraps
 * BOS and EOS in newlines ({@code "\n<s>\n"}); both are undone here so that the vocabulary
 * equals the one in the model's GGUF file. Token 0 is unknown, 1 BOS, 2 EOS; pieces of the
 * form {@code <0xXX>} are byte tokens.
 */
public final class Llama2cTokenizerFile {

    /** Files larger than this are not tokenizer files (a 128k vocabulary needs about 2 MiB). */
    static final long MAX_FILE_BYTES = 256L << 20;
    private static final int BOS = 1;
    private static final int EOS = 2;
    private static final int UNK = 0;

    private Llama2cTokenizerFile() {
    }

    /**
     * @param vocabSize number of tokens, from the model file's header
     * @throws IOException when the file cannot be read
     * @throws IllegalArgumentException naming the file, the field and the problem when the
     *                                  file does not hold {@code vocabSize} well-formed tokens
     */
    public static Vocabulary read(Path file, int vocabSize) throws IOException {
        if (vocabSize <= EOS) {
            throw new IllegalArgumentException("tokenizer " + file + ": vocab_size=" + vocabSize
                    + " must be at least 3 (unk, bos, eos); check the model header");
        }
        long size = Files.size(file);
        if (size > MAX_FILE_BYTES) {
            throw new IllegalArgumentException("tokenizer " + file + ": size=" + size + " exceeds "
                    + MAX_FILE_BYTES + " bytes; this is not a llama2.c tokenizer.bin");
        }
        ByteBuffer in = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        need(file, in, 4, "max_token_length");
        int maxTokenLength = in.getInt();
        if (maxTokenLength < 0) {
            throw new IllegalArgumentException("tokenizer " + file + ": max_token_length=" + maxTokenLength
                    + " is negative; file corrupt");
        }
        String[] tokens = new String[vocabSize];
        float[] scores = new float[vocabSize];
        int[] types = new int[vocabSize];
        for (int id = 0; id < vocabSize; id++) {
            need(file, in, 8, "token " + id + " score and length");
            scores[id] = in.getFloat();
            int length = in.getInt();
            if (length < 0 || length > maxTokenLength) {
                throw new IllegalArgumentException("tokenizer " + file + ": token " + id + " length=" + length
                        + " is outside [0, max_token_length=" + maxTokenLength + "]; file corrupt");
            }
            need(file, in, length, "token " + id + " bytes");
            byte[] bytes = new byte[length];
            in.get(bytes);
            tokens[id] = piece(id, new String(bytes, StandardCharsets.UTF_8));
            types[id] = typeOf(id, tokens[id]);
        }
        if (in.hasRemaining()) {
            throw new IllegalArgumentException("tokenizer " + file + ": " + in.remaining()
                    + " bytes follow token " + (vocabSize - 1) + "; the model's vocab_size=" + vocabSize
                    + " does not match this tokenizer");
        }
        return new Vocabulary("llama", null, tokens, scores, types, List.of(), BOS, EOS, UNK, true);
    }

    private static void need(Path file, ByteBuffer in, long bytes, String field) {
        if (bytes > in.remaining()) {
            throw new IllegalArgumentException("tokenizer " + file + ": " + field + " needs " + bytes
                    + " bytes at offset=" + in.position() + " but the file has size=" + in.limit()
                    + "; file truncated or the vocab_size is wrong");
        }
    }

    private static String piece(int id, String text) {
        if (id == BOS || id == EOS) {
            return text.strip();
        }
        return text.replace(' ', '\u2581');
    }

    private static int typeOf(int id, String piece) {
        if (id == UNK) {
            return TokenType.UNKNOWN;
        }
        if (id == BOS || id == EOS) {
            return TokenType.CONTROL;
        }
        boolean bytePiece = piece.length() == 6 && piece.startsWith("<0x") && piece.endsWith(">")
                && isHex(piece.charAt(3)) && isHex(piece.charAt(4));
        return bytePiece ? TokenType.BYTE : TokenType.NORMAL;
    }

    private static boolean isHex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
    }
}
