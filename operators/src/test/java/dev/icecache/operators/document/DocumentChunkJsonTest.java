package dev.icecache.operators.document;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The chunk record format: exact bytes written, round trips, and one-line errors for bad records. */
class DocumentChunkJsonTest {

    @Test
    void shouldWriteTheDocumentedObject() {
        assertEquals("{\"doc\":\"a.txt\",\"seq\":3,\"text\":\"He said \\\"hi\\\"\\n\\ttab \\\\ \\u0001\",\"last\":true}",
                DocumentChunkJson.write(new DocumentChunk("a.txt", 3, "He said \"hi\"\n\ttab \\ \u0001", true)));
    }

    @Test
    void shouldReadMembersInAnyOrderWithWhitespaceAndEscapes() {
        DocumentChunk c = DocumentChunkJson.read(
                " { \"last\" : false ,\n\"text\":\"caf\\u00e9 \\/ \\ud83d\\ude00 \\b\\f\\r\", \"seq\":0,\"doc\":\"d\" } ");
        assertEquals(new DocumentChunk("d", 0, "café / \uD83D\uDE00 \b\f\r", false), c);
    }

    @Test
    void shouldRoundTripRandomChunks() {
        long seed = 20261128L;
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < 2000; i++) {
            StringBuilder text = new StringBuilder();
            int n = random.nextInt(40);
            for (int j = 0; j < n; j++) {
                // all of UTF-16, lone surrogates and control characters included
                text.append((char) (random.nextInt(4) == 0 ? random.nextInt(0x80) : random.nextInt(0x10000)));
            }
            DocumentChunk c = new DocumentChunk("doc-" + random.nextInt(1000) + "\u00e9\"", random.nextInt(Integer.MAX_VALUE),
                    text.toString(), random.nextBoolean());
            String json = DocumentChunkJson.write(c);
            assertEquals(-1, json.indexOf('\n'), "one line, seed=" + seed + " i=" + i);
            assertEquals(c, DocumentChunkJson.read(json), "round trip, seed=" + seed + " i=" + i + ": " + json);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "`not json`|not a chunk object: expected '{' at offset 0",
        "`{}`|the object is empty",
        "`{\"doc\":\"a\",\"seq\":1,\"text\":\"t\"}`|member \"last\" is missing",
        "`{\"seq\":1,\"text\":\"t\",\"last\":true}`|member \"doc\" is missing",
        "`{\"doc\":\"a\",\"seq\":1,\"text\":\"t\",\"last\":true,\"x\":1}`|unknown member \"x\" at offset 42",
        "`{\"doc\":\"a\",\"doc\":\"b\",\"seq\":1,\"text\":\"t\",\"last\":true}`|member \"doc\" appears twice",
        "`{\"doc\":\"a\",\"seq\":-1,\"text\":\"t\",\"last\":true}`|\"seq\" is negative",
        "`{\"doc\":\"a\",\"seq\":1.5,\"text\":\"t\",\"last\":true}`|\"seq\" must be an integer",
        "`{\"doc\":\"a\",\"seq\":01,\"text\":\"t\",\"last\":true}`|without leading zeros",
        "`{\"doc\":\"a\",\"seq\":2147483648,\"text\":\"t\",\"last\":true}`|exceeds 2147483647",
        "`{\"doc\":\"a\",\"seq\":\"1\",\"text\":\"t\",\"last\":true}`|\"seq\" must be an integer",
        "`{\"doc\":\"a\",\"seq\":1,\"text\":\"t\",\"last\":\"yes\"}`|\"last\" must be true or false",
        "`{\"doc\":\"a\",\"seq\":1,\"text\":\"t\",\"last\":true} x`|unexpected text after the object",
        "`{\"doc\":\"a\",\"seq\":1,\"text\":\"t\\q\",\"last\":true}`|invalid escape '\\q'",
        "`{\"doc\":\"a\",\"seq\":1,\"text\":\"\\u12\",\"last\":true}`|\\u escape needs four hex digits",
        "`{\"doc\":\"a\",\"seq\":1,\"text\":\"unterminated`|the text ends where the closing '\"' of a string was expected",
        "`{\"doc\":\"\",\"seq\":1,\"text\":\"t\",\"last\":true}`|member \"doc\" is empty",
        "`{\"doc\":\"a\" \"seq\":1}`|expected ',' or '}'",
    })
    void shouldRejectWithOneLineNamingTheProblem(String json, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DocumentChunkJson.read(json));
        assertTrue(e.getMessage().contains(expected), json + " -> " + e.getMessage());
        assertEquals(-1, e.getMessage().indexOf('\n'), "one line: " + e.getMessage());
    }

    @Test
    void shouldRejectARawControlCharacterInAString() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DocumentChunkJson.read("{\"doc\":\"a\",\"seq\":1,\"text\":\"a\nb\",\"last\":true}"));
        assertTrue(e.getMessage().contains("control character U+000a inside a string must be escaped"), e.getMessage());
    }

    @Test
    void shouldMarkMalformedChunksAndRefuseToWriteThem() {
        DocumentChunk bad = DocumentChunk.malformed("x", "why");
        assertTrue(bad.isMalformed() && bad.last());
        assertEquals("why", bad.text());
        assertThrows(IllegalArgumentException.class, () -> DocumentChunkJson.write(bad));
    }
}
