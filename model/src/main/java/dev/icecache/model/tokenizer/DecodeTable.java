package dev.icecache.model.tokenizer;

import java.io.ByteArrayOutputStream;

/**
 * The bytes each token stands for in decoded output, and decoding through them; shared by the
 * tokenizer families, which differ only in how they fill the table.
 */
final class DecodeTable {

    // [token] the bytes a token stands for in decoded output
    private final byte[][] output;

    DecodeTable(byte[][] output) {
        this.output = output;
    }

    /** A copy of one token's bytes. */
    byte[] tokenBytes(int token) {
        checkToken(token);
        return output[token].clone();
    }

    /** Decodes a run of tokens; invalid UTF-8 becomes U+FFFD. */
    String decode(int[] tokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(tokens.length * 4);
        for (int token : tokens) {
            checkToken(token);
            bytes.writeBytes(output[token]);
        }
        byte[] all = bytes.toByteArray();
        return Utf8.decode(all, all.length);
    }

    private void checkToken(int token) {
        if (token < 0 || token >= output.length) {
            throw new IllegalArgumentException("token id " + token + " is outside the vocabulary [0, "
                    + output.length + ")");
        }
    }
}
