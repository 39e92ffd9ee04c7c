package dev.icecache.job.examples;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes R objects in R's XDR serialization format (R Internals, "Serialization Formats"), by
 * hand, so the extractor is tested against the published format and not against itself. Each
 * item is a 4-byte flags word (type in bits 0-7, object bit 8, attribute bit 9, tag bit 10,
 * "levels" from bit 12; for strings the levels hold the encoding), then its payload.
 */
final class RSerializationWriter {

    static final int SYMSXP = 1;
    static final int LISTSXP = 2;
    static final int CLOSXP = 3;
    static final int CHARSXP = 9;
    static final int LGLSXP = 10;
    static final int INTSXP = 13;
    static final int CPLXSXP = 15;
    static final int STRSXP = 16;
    static final int VECSXP = 19;
    static final int NILVALUE_SXP = 254;
    static final int REFSXP = 255;
    static final int HAS_ATTR = 1 << 9;
    static final int HAS_TAG = 1 << 10;
    static final int IS_OBJECT = 1 << 8;

    /** Encoding bits of a CHARSXP, as its "levels". */
    enum Encoding {
        NATIVE(0), LATIN1(1 << 2), UTF8(1 << 3), ASCII(1 << 6);

        final int levels;

        Encoding(int levels) {
            this.levels = levels;
        }
    }

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final DataOutputStream out = new DataOutputStream(bytes);
    private final List<String> symbols = new ArrayList<>();

    /** Starts a stream: "X\n", the format version (2 or 3), R versions, and (3) the native encoding. */
    RSerializationWriter(int version) {
        raw("X\n".getBytes(StandardCharsets.US_ASCII));
        integer(version);
        integer(0x040201);   // written by R 4.2.1
        integer(version == 3 ? 0x030500 : 0x020300);
        if (version == 3) {
            byte[] encoding = "UTF-8".getBytes(StandardCharsets.US_ASCII);
            integer(encoding.length);
            raw(encoding);
        }
    }

    RSerializationWriter integer(int value) {
        try {
            out.writeInt(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    RSerializationWriter raw(byte[] data) {
        bytes.write(data, 0, data.length);
        return this;
    }

    RSerializationWriter flags(int type, int extra) {
        return integer(type | extra);
    }

    /** A CHARSXP with its text encoded as {@code encoding} says. */
    RSerializationWriter string(String text, Encoding encoding) {
        byte[] data = text.getBytes(encoding == Encoding.LATIN1 ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8);
        flags(CHARSXP, encoding.levels << 12).integer(data.length);
        return raw(data);
    }

    /** NA_STRING: a CHARSXP of length -1. */
    RSerializationWriter naString() {
        return flags(CHARSXP, 0).integer(-1);
    }

    /** A character vector of ASCII-flagged strings, without attributes. */
    RSerializationWriter asciiStrings(String... texts) {
        flags(STRSXP, 0).integer(texts.length);
        for (String t : texts) {
            string(t, Encoding.ASCII);
        }
        return this;
    }

    /** A symbol: written in full the first time, as a back-reference after that. */
    RSerializationWriter symbol(String name) {
        int index = symbols.indexOf(name);
        if (index >= 0) {
            return integer(((index + 1) << 8) | REFSXP);
        }
        symbols.add(name);
        flags(SYMSXP, 0);
        return string(name, Encoding.ASCII);
    }

    /** Opens one pairlist cell with a tag; the caller then writes the value and the next cell or NULL. */
    RSerializationWriter taggedCell(String tag) {
        flags(LISTSXP, HAS_TAG);
        return symbol(tag);
    }

    RSerializationWriter nil() {
        return integer(NILVALUE_SXP);
    }

    /** An attribute pairlist holding only names = the given strings. */
    RSerializationWriter namesAttribute(String... names) {
        taggedCell("names");
        asciiStrings(names);
        return nil();
    }

    byte[] toByteArray() {
        return bytes.toByteArray();
    }
}
