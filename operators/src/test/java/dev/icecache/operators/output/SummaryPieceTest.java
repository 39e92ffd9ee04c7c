package dev.icecache.operators.output;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
}
