package dev.icecache.operators.document;

import dev.icecache.operators.output.JsonText;

/**
 * A {@link DocumentChunk} as one JSON object (RFC 8259), the value of a record on a Kafka
 * topic: {@code {"doc":"a.txt","seq":0,"text":"...","last":false}}.
 *
 * <p>The parser is strict because records are untrusted: exactly these four members, each
 * once, of these types ({@code seq} an integer in [0, 2^31-1], {@code doc} not empty), and
 * nothing after the object. {@link #write} then {@link #read} gives back any chunk, lone
 * surrogates included (they travel as backslash-u escapes). Every problem is an
 * {@link IllegalArgumentException} whose one-line message says what and where (character
 * offset). Members may come in any order; whitespace between tokens is allowed.
 */
public final class DocumentChunkJson {

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final String json;
    private int at;

    private DocumentChunkJson(String json) {
        this.json = json;
    }

    /** The chunk as one line of JSON; control characters and lone surrogates are escaped. */
    public static String write(DocumentChunk chunk) {
        if (chunk.isMalformed()) {
            throw new IllegalArgumentException("chunk of " + chunk.docId() + " is malformed; only real chunks are written");
        }
        StringBuilder out = new StringBuilder(48 + chunk.docId().length() + chunk.text().length());
        out.append("{\"doc\":");
        JsonText.appendString(out, chunk.docId());
        out.append(",\"seq\":").append(chunk.seq()).append(",\"text\":");
        JsonText.appendString(out, chunk.text());
        out.append(",\"last\":").append(chunk.last()).append('}');
        return out.toString();
    }

    /**
     * Parses one chunk.
     *
     * @throws IllegalArgumentException naming the first problem and its character offset
     */
    public static DocumentChunk read(String json) {
        return new DocumentChunkJson(json).object();
    }

    private DocumentChunk object() {
        skipWhitespace();
        expect('{');
        String doc = null;
        long seq = -1;
        String text = null;
        Boolean last = null;
        skipWhitespace();
        if (peek() == '}') {
            throw problem("the object is empty; it needs doc, seq, text and last");
        }
        while (true) {
            skipWhitespace();
            int nameAt = at;
            String name = string();
            skipWhitespace();
            expect(':');
            skipWhitespace();
            switch (name) {
                case "doc" -> {
                    requireFirst(doc == null, name, nameAt);
                    doc = string();
                }
                case "seq" -> {
                    requireFirst(seq < 0, name, nameAt);
                    seq = sequenceNumber();
                }
                case "text" -> {
                    requireFirst(text == null, name, nameAt);
                    text = string();
                }
                case "last" -> {
                    requireFirst(last == null, name, nameAt);
                    last = bool();
                }
                default -> throw new IllegalArgumentException("unknown member \"" + name + "\" at offset " + nameAt
                        + "; a chunk has only doc, seq, text and last");
            }
            skipWhitespace();
            char c = next("',' or '}'");
            if (c == '}') {
                break;
            }
            if (c != ',') {
                at--;
                throw problem("expected ',' or '}'");
            }
        }
        skipWhitespace();
        if (at < json.length()) {
            throw problem("unexpected text after the object");
        }
        requirePresent(doc != null, "doc");
        requirePresent(seq >= 0, "seq");
        requirePresent(text != null, "text");
        requirePresent(last != null, "last");
        if (doc.isEmpty()) {
            throw new IllegalArgumentException("member \"doc\" is empty; a document needs an id");
        }
        return new DocumentChunk(doc, (int) seq, text, last);
    }

    private static void requirePresent(boolean present, String name) {
        if (!present) {
            throw new IllegalArgumentException("member \"" + name + "\" is missing; a chunk needs doc, seq, text and last");
        }
    }

    private static void requireFirst(boolean first, String name, int nameAt) {
        if (!first) {
            throw new IllegalArgumentException("member \"" + name + "\" appears twice (again at offset " + nameAt + ")");
        }
    }

    private long sequenceNumber() {
        int start = at;
        if (peek() == '-') {
            throw problem("\"seq\" is negative; it must be an integer in [0, " + Integer.MAX_VALUE + "]");
        }
        long value = 0;
        while (at < json.length() && json.charAt(at) >= '0' && json.charAt(at) <= '9') {
            value = value * 10 + (json.charAt(at) - '0');
            if (value > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("\"seq\" at offset " + start + " exceeds " + Integer.MAX_VALUE);
            }
            at++;
        }
        int digits = at - start;
        if (digits == 0 || (digits > 1 && json.charAt(start) == '0')) {
            at = start;
            throw problem("\"seq\" must be an integer in [0, " + Integer.MAX_VALUE + "] without leading zeros");
        }
        if (at < json.length() && (json.charAt(at) == '.' || json.charAt(at) == 'e' || json.charAt(at) == 'E')) {
            throw problem("\"seq\" must be an integer, not a fraction or exponent");
        }
        return value;
    }

    private boolean bool() {
        if (json.startsWith("true", at)) {
            at += 4;
            return true;
        }
        if (json.startsWith("false", at)) {
            at += 5;
            return false;
        }
        throw problem("\"last\" must be true or false");
    }

    private String string() {
        expect('"');
        StringBuilder out = new StringBuilder();
        while (true) {
            char c = next("the closing '\"' of a string");
            if (c == '"') {
                break;
            }
            if (c < 0x20) {
                at--;
                throw problem("control character U+" + hex4(c) + " inside a string must be escaped");
            }
            if (c != '\\') {
                out.append(c);
                continue;
            }
            char e = next("an escape character");
            switch (e) {
                case '"', '\\', '/' -> out.append(e);
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'u' -> out.append(unicodeEscape());
                default -> {
                    at--;
                    throw problem("invalid escape '\\" + e + "'");
                }
            }
        }
        return out.toString();
    }

    private char unicodeEscape() {
        if (at + 4 > json.length()) {
            throw problem("truncated \\u escape");
        }
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int d = Character.digit(json.charAt(at + i), 16);
            if (d < 0) {
                throw problem("\\u escape needs four hex digits");
            }
            v = v * 16 + d;
        }
        at += 4;
        return (char) v;
    }

    private void skipWhitespace() {
        while (at < json.length()) {
            char c = json.charAt(at);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            at++;
        }
    }

    private char peek() {
        if (at >= json.length()) {
            throw problem("the text ends too early");
        }
        return json.charAt(at);
    }

    private char next(String wanted) {
        if (at >= json.length()) {
            throw problem("the text ends where " + wanted + " was expected");
        }
        return json.charAt(at++);
    }

    private void expect(char c) {
        if (next("'" + c + "'") != c) {
            at--;
            throw problem("expected '" + c + "'");
        }
    }

    private IllegalArgumentException problem(String what) {
        String found = at < json.length() ? " (found '" + printable(json.charAt(at)) + "')" : "";
        return new IllegalArgumentException("not a chunk object: " + what + " at offset " + at + found);
    }

    private static String printable(char c) {
        return c < 0x20 || Character.isSurrogate(c) ? "U+" + hex4(c) : String.valueOf(c);
    }

    private static String hex4(char c) {
        return new String(new char[] {HEX[(c >> 12) & 0xf], HEX[(c >> 8) & 0xf], HEX[(c >> 4) & 0xf], HEX[c & 0xf]});
    }
}
