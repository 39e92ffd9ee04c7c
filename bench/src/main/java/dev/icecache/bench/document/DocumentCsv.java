package dev.icecache.bench.document;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code document.csv}: one row per finished point, appended as soon as it is measured, so an
 * interrupted run resumes by skipping the points already in the file (same kind, policy, length).
 *
 * <pre>
 *   kind: end-to-end (real prefill of n tokens + generation), block (synthetic fill to n - block,
 *         then a real block ending at n, then decode steps), llamacpp (prefill + timed steps)
 *   seconds columns: prefill and decode, each split index / moves / attention / append / model
 * </pre>
 */
final class DocumentCsv {

    static final String HEADER = "kind,policy,length,prefill_tokens,prefill_s,prefill_index_s,prefill_moves_s,"
            + "prefill_attention_s,prefill_append_s,prefill_model_s,decode_tokens,decode_s,decode_index_s,decode_moves_s,"
            + "decode_attention_s,decode_append_s,decode_model_s,load";

    /** One finished point. */
    record Row(String kind, String policy, int length, SummaryTime prefill, SummaryTime decode, String load) {

        String key() {
            return kind + "," + policy + "," + length;
        }

        String csv() {
            return String.format(Locale.ROOT, "%s,%s,%d,%s,%s,%s", kind, policy, length, times(prefill), times(decode),
                    load.replace(',', ' '));
        }

        private static String times(SummaryTime t) {
            return String.format(Locale.ROOT, "%d,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f", t.tokens(), t.seconds(),
                    t.indexSeconds(), t.movesSeconds(), t.attentionSeconds(), t.appendSeconds(), t.modelSeconds());
        }

        static Row parse(String line) {
            String[] f = line.split(",", -1);
            if (f.length != 18) {
                throw new IllegalArgumentException("document CSV row has " + f.length + " fields, expected 18: " + line
                        + "; move the file away to start afresh");
            }
            return new Row(f[0], f[1], Integer.parseInt(f[2]), time(f, 3), time(f, 10), f[17]);
        }

        private static SummaryTime time(String[] f, int at) {
            return new SummaryTime(Integer.parseInt(f[at]), Double.parseDouble(f[at + 1]), Double.parseDouble(f[at + 2]),
                    Double.parseDouble(f[at + 3]), Double.parseDouble(f[at + 4]), Double.parseDouble(f[at + 5]),
                    Double.parseDouble(f[at + 6]));
        }
    }

    private final Path file;
    private final List<Row> rows = new ArrayList<>();

    /** Opens (or starts) the CSV at {@code file}, reading the rows already there. */
    DocumentCsv(Path file) throws IOException {
        this.file = file;
        if (Files.isRegularFile(file)) {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            if (lines.isEmpty() || !lines.get(0).equals(HEADER)) {
                throw new IllegalArgumentException(file + " is not a document CSV of this version (header differs);"
                        + " move it away or pass another --out");
            }
            for (String line : lines.subList(1, lines.size())) {
                if (!line.isBlank()) {
                    rows.add(Row.parse(line));
                }
            }
        } else {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, HEADER + "\n", StandardCharsets.UTF_8);
        }
    }

    /** The finished row for (kind, policy, length), or null. */
    Row find(String kind, String policy, int length) {
        String key = kind + "," + policy + "," + length;
        for (Row r : rows) {
            if (r.key().equals(key)) {
                return r;
            }
        }
        return null;
    }

    /** Appends a finished point to the file at once. */
    void add(Row row) throws IOException {
        rows.add(row);
        Files.writeString(file, row.csv() + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }

    List<Row> rows() {
        return rows;
    }
}
