package dev.icecache.model.tokenizer;

import java.nio.charset.StandardCharsets;

/** UTF-8 conversions that never fail: lone surrogates become U+FFFD, as invalid input does in llama.cpp. */
final class Utf8 {

    static final int REPLACEMENT = 0xFFFD;

    private Utf8() {
    }

    /** The code point at {@code index}, U+FFFD for a lone surrogate. */
    static int codePointAt(CharSequence text, int index, int end) {
        char c = text.charAt(index);
        if (Character.isHighSurrogate(c) && index + 1 < end && Character.isLowSurrogate(text.charAt(index + 1))) {
            return Character.toCodePoint(c, text.charAt(index + 1));
        }
        return Character.isSurrogate(c) ? REPLACEMENT : c;
    }

    /** The code point at {@code index} of a buffer, U+FFFD for a lone surrogate. */
    static int codePointAt(char[] text, int index, int end) {
        char c = text[index];
        if (Character.isHighSurrogate(c) && index + 1 < end && Character.isLowSurrogate(text[index + 1])) {
            return Character.toCodePoint(c, text[index + 1]);
        }
        return Character.isSurrogate(c) ? REPLACEMENT : c;
    }

    /** Writes the UTF-8 bytes of {@code codePoint} at {@code offset}; returns the count (1..4). */
    static int encode(int codePoint, byte[] out, int offset) {
        if (codePoint < 0x80) {
            out[offset] = (byte) codePoint;
            return 1;
        }
        if (codePoint < 0x800) {
            out[offset] = (byte) (0xC0 | (codePoint >> 6));
            out[offset + 1] = (byte) (0x80 | (codePoint & 0x3F));
            return 2;
        }
        if (codePoint < 0x10000) {
            out[offset] = (byte) (0xE0 | (codePoint >> 12));
            out[offset + 1] = (byte) (0x80 | ((codePoint >> 6) & 0x3F));
            out[offset + 2] = (byte) (0x80 | (codePoint & 0x3F));
            return 3;
        }
        out[offset] = (byte) (0xF0 | (codePoint >> 18));
        out[offset + 1] = (byte) (0x80 | ((codePoint >> 12) & 0x3F));
        out[offset + 2] = (byte) (0x80 | ((codePoint >> 6) & 0x3F));
        out[offset + 3] = (byte) (0x80 | (codePoint & 0x3F));
        return 4;
    }

    /** Text from bytes; every invalid sequence becomes U+FFFD. */
    static String decode(byte[] bytes, int length) {
        return new String(bytes, 0, length, StandardCharsets.UTF_8);
    }

    /** The UTF-8 bytes of a string whose lone surrogates are replaced by U+FFFD. */
    static byte[] bytesOf(String text) {
        byte[] out = new byte[text.length() * 3];
        int n = 0;
        for (int i = 0; i < text.length(); ) {
            int cp = codePointAt(text, i, text.length());
            n += encode(cp, out, n);
            i += Character.isSupplementaryCodePoint(cp) ? 2 : 1;
        }
        return java.util.Arrays.copyOf(out, n);
    }
}
