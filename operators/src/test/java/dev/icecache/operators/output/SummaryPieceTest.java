package dev.icecache.operators.output;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class SummaryPieceTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void shouldRoundTripAwkwardTextThroughAJsonParser() throws Exception {
        String text = "quote\" backslash\\ nl\n cr\r tab\t bell\u0007 nul\u0000 emoji\uD83D\uDE00 é";
        String line = new SummaryPiece("dir/a \"b\".txt", 3, text, false, DocumentStats.NONE).toJsonLine();
        assertFalse(line.contains("\n"), "one line");
        JsonNode node = JSON.readTree(line);
        assertEquals("dir/a \"b\".txt", node.get("doc").asText());
        assertEquals(3, node.get("seq").asInt());
        assertEquals(text, node.get("text").asText());
        assertFalse(node.get("final").asBoolean());
        assertFalse(node.has("stats"));
    }

    @Test
    void shouldWriteStatsOnlyOnTheLastPiece() throws Exception {
        DocumentStats stats = new DocumentStats(1200, 64, 37, 0.75, 1.5e-3);
        JsonNode node = JSON.readTree(new SummaryPiece("d", 9, "", true, stats).toJsonLine());
        assertTrue(node.get("final").asBoolean());
        JsonNode s = node.get("stats");
        assertEquals(1200, s.get("tokens_in").asLong());
        assertEquals(64, s.get("tokens_out").asLong());
        assertEquals(37, s.get("pages_moved").asLong());
        assertEquals(0.75, s.get("resident_hit_rate").asDouble());
        assertEquals(1.5e-3, s.get("seconds").asDouble());
    }

    @Test
    void shouldEscapeLoneSurrogatesSoTheLineIsValidUtf8() throws Exception {
        String line = new SummaryPiece("d", 0, "a\uD800b", false, DocumentStats.NONE).toJsonLine();
        assertTrue(line.contains("\\ud800"), line);
        assertEquals("a\uD800b", JSON.readTree(line).get("text").asText());
    }

    @Test
    void shouldWriteNullForANonFiniteRate() throws Exception {
        DocumentStats stats = new DocumentStats(0, 0, 0, Double.NaN, 0.0);
        JsonNode node = JSON.readTree(new SummaryPiece("d", 0, "", true, stats).toJsonLine());
        assertTrue(node.get("stats").get("resident_hit_rate").isNull());
    }

    @Test
    void shouldWriteTheSameLineAsBeforeRollingSummariesForAPieceOfAnOnlySummary() {
        // a golden line: documents without rolling summaries keep their output byte for byte
        assertEquals("{\"doc\":\"d\",\"seq\":2,\"text\":\"a b\",\"final\":false}",
                new SummaryPiece("d", 2, "a b", false, DocumentStats.NONE).toJsonLine());
        assertEquals("{\"doc\":\"d\",\"seq\":3,\"text\":\"\",\"final\":true,\"stats\":{\"tokens_in\":5,"
                + "\"tokens_out\":1,\"pages_moved\":0,\"resident_hit_rate\":0.5,\"seconds\":0.25}}",
                new SummaryPiece("d", 3, "", true, new DocumentStats(5, 1, 0, 0.5, 0.25)).toJsonLine());
    }

    @Test
    void shouldWriteKindAndCoverageOnRollingAndFinalPieces() throws Exception {
        JsonNode rolling = JSON.readTree(new SummaryPiece("d", 0, "so far", false, DocumentStats.NONE, null,
                SummaryPiece.Kind.ROLLING, 512).toJsonLine());
        assertEquals("rolling", rolling.get("kind").asText());
        assertEquals(512, rolling.get("up_to").asLong());
        assertFalse(rolling.get("final").asBoolean());
        JsonNode last = JSON.readTree(new SummaryPiece("d", 7, "end", true, new DocumentStats(1, 2, 3, 0.5, 1.0),
                null, SummaryPiece.Kind.FINAL, 1300).toJsonLine());
        assertEquals("final", last.get("kind").asText());
        assertEquals(1300, last.get("up_to").asLong());
        assertTrue(last.get("final").asBoolean());
        assertEquals(2, last.get("stats").get("tokens_out").asLong());
    }

    @Test
    void shouldRefuseAPieceWithoutKind() {
        assertThrows(IllegalArgumentException.class,
                () -> new SummaryPiece("d", 0, "", false, DocumentStats.NONE, null, null, 0));
    }
}
