package dev.icecache.bench.document;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bench document}'s resumable CSV and the time-to-summary arithmetic of its report. */
class DocumentReportTest {

    @TempDir
    Path dir;

    private static SummaryTime time(int tokens, double seconds) {
        return new SummaryTime(tokens, seconds, 0.1 * seconds, 0.05 * seconds, 0.2 * seconds, 0.05 * seconds,
                0.6 * seconds);
    }

    private static DocumentCsv.Row row(String kind, String policy, int length, double prefill, double decode) {
        return new DocumentCsv.Row(kind, policy, length, time(kind.equals("block") ? 512 : length, prefill),
                time(kind.equals("block") ? 8 : 127, decode), "1.00 2.00 3.00");
    }

    @Test
    void shouldResumeFromTheRowsAlreadyWritten() throws Exception {
        Path file = dir.resolve("document.csv");
        DocumentCsv csv = new DocumentCsv(file);
        csv.add(row("end-to-end", "ICECACHE", 4096, 100, 20));
        csv.add(row("block", "QUEST", 65536, 30, 4));
        DocumentCsv again = new DocumentCsv(file);
        assertEquals(2, again.rows().size());
        DocumentCsv.Row r = again.find("end-to-end", "ICECACHE", 4096);
        assertNotNull(r);
        assertEquals(100, r.prefill().seconds(), 1e-9);
        assertEquals(0.1 * 100, r.prefill().indexSeconds(), 1e-4);
        assertEquals(127, r.decode().tokens());
        assertNull(again.find("end-to-end", "ICECACHE", 16384));
        assertNull(again.find("block", "ICECACHE", 65536));
        assertEquals(3, Files.readAllLines(file).size());
    }

    @Test
    void shouldRefuseACsvOfAnotherVersionInOneLine() throws Exception {
        Path file = dir.resolve("document.csv");
        Files.writeString(file, "kind,policy\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new DocumentCsv(file));
        assertTrue(e.getMessage().contains("move it away"), e.getMessage());
    }

    @Test
    void shouldIntegrateThePerTokenPrefillTimeOverDepth() {
        // 0.01 s/token at 4096, 0.02 s/token at 8192: flat to 4096 (40.96 s), then a trapezoid (61.44 s)
        List<DocumentCsv.Row> blocks = List.of(row("block", "ICECACHE", 4096, 5.12, 1),
                row("block", "ICECACHE", 8192, 10.24, 1));
        assertEquals(40.96, DocumentReport.integratePrefill(blocks, 4096), 1e-9);
        assertEquals(40.96 + 61.44, DocumentReport.integratePrefill(blocks, 8192), 1e-9);
    }

    @Test
    void shouldFitLlamaCppBeyondItsLastLengthAndLabelIt() {
        List<DocumentCsv.Row> rows = List.of(row("llamacpp", "LLAMA_CPP", 1024, 10, 5),
                row("llamacpp", "LLAMA_CPP", 2048, 40, 6), row("block", "ICECACHE", 4096, 5.12, 0.08));
        assertEquals(160, DocumentReport.fitPrefill(rows.subList(0, 2), 4096), 1e-9);
        assertEquals(8, DocumentReport.fitDecode(rows.subList(0, 2), 4096), 1e-9);
        DocumentReport report = new DocumentReport(rows, 128);
        DocumentReport.Summary fitted = report.summaries().stream()
                .filter(s -> s.length() == 4096 && s.policy().equals("llama.cpp")).findFirst().orElseThrow();
        assertEquals("**fitted**", fitted.source());
        assertEquals(168, fitted.total(), 1e-9);
        DocumentReport.Summary ice = report.summaries().stream()
                .filter(s -> s.policy().equals("ICECACHE")).findFirst().orElseThrow();
        // 0.01 s/token over 4096 tokens, 0.01 s per step x 127 steps
        assertEquals(40.96 + 1.27, ice.total(), 1e-9);
        assertTrue(report.markdown("cmd", dev.icecache.bench.plot.RunInfo.now()).contains("| 4096 | llama.cpp | **fitted** |"));
    }
}
