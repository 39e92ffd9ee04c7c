package dev.icecache.operators.decode;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.IntFunction;

/**
 * Turns generated tokens into text pieces that never split a UTF-8 character: a byte-fallback
 * token may carry only part of a character, so the bytes of an unfinished character are held
 * back (at most 3, stored with the document's state) until the rest arrives. Concatenating the
 * pieces gives the UTF-8 decoding of all the tokens' bytes.
 */
public final class TextAssembler {

    private final IntFunction<byte[]> tokenBytes;

    /** @param tokenBytes the bytes a token contributes to the output (the tokenizer's) */
    public TextAssembler(IntFunction<byte[]> tokenBytes) {
        this.tokenBytes = tokenBytes;
    }

    /**
     * The result of one call.
     *
     * @param text complete characters ready to emit
     * @param pending bytes of an unfinished character, to pass to the next call
     */
    public record Piece(String text, byte[] pending) {
    }

    /**
     * Appends tokens to the held bytes.
     *
     * @param pending bytes held from the previous call (empty at the start)
     * @param flush true at the end of the generation: held bytes are emitted anyway (as U+FFFD)
     */
    public Piece append(byte[] pending, int[] tokens, int off, int len, boolean flush) {
        int size = pending.length;
        byte[] buf = Arrays.copyOf(pending, Math.max(16, size + 8 * len));
        for (int i = off; i < off + len; i++) {
            byte[] b = tokenBytes.apply(tokens[i]);
            if (size + b.length > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(size + b.length, 2 * buf.length));
            }
            System.arraycopy(b, 0, buf, size, b.length);
            size += b.length;
        }
        int complete = flush ? size : completePrefix(buf, size);
        return new Piece(new String(buf, 0, complete, StandardCharsets.UTF_8), Arrays.copyOfRange(buf, complete, size));
    }

    /** Length of the longest prefix that does not end inside a (possibly valid) multi-byte character. */
    static int completePrefix(byte[] b, int size) {
        // look back at most 3 bytes for the lead byte of a character still missing continuation bytes
        for (int back = 1; back <= Math.min(3, size); back++) {
            int c = b[size - back] & 0xff;
            if ((c & 0xC0) == 0x80) {
                continue; // continuation byte: keep looking for its lead
            }
            int need = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 1;
            return need > back ? size - back : size;
        }
        return size;
    }
}
