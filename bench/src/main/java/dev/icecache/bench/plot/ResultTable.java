package dev.icecache.bench.plot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One benchmark's result rows, written as CSV (for plots and spreadsheets) and as a Markdown
 * table (for BENCHMARKS.md). Cells are strings already formatted by the benchmark; numbers are
 * formatted with {@link #num}, so files do not depend on the machine's locale.
 */
public final class ResultTable {

    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();

    /** A table with these column names. */
    public ResultTable(String... header) {
        if (header.length == 0) {
            throw new IllegalArgumentException("a result table needs at least one column");
        }
        this.header = List.of(header);
    }

    /**
     * Adds one row.
     *
     * @throws IllegalArgumentException when the row does not have one cell per column
     */
    public ResultTable add(Object... cells) {
        if (cells.length != header.size()) {
            throw new IllegalArgumentException("row has " + cells.length + " cells; the table has " + header.size()
                    + " columns " + header);
        }
        List<String> row = new ArrayList<>(cells.length);
        for (Object c : cells) {
            row.add(c instanceof Double || c instanceof Float ? num(((Number) c).doubleValue()) : String.valueOf(c));
        }
        rows.add(row);
        return this;
    }

    /** Rows added so far. */
    public int size() {
        return rows.size();
    }

    /** Cell {@code column} of row {@code row}. */
    public String cell(int row, int column) {
        return rows.get(row).get(column);
    }

    /** A number with about three significant digits, '.' as decimal point (e.g. 0.0123, 4.56, 789, 12345). */
    public static String num(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return String.valueOf(v);
        }
        double a = Math.abs(v);
        String f = a >= 100 || a == 0 ? "%.0f" : a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : a >= 0.01 ? "%.3f" : "%.2e";
        return String.format(Locale.ROOT, f, v);
    }

    /** The table as CSV: a header line, then one line per row; cells with commas or quotes are quoted. */
    public String csv() {
        StringBuilder sb = new StringBuilder();
        csvLine(sb, header);
        for (List<String> r : rows) {
            csvLine(sb, r);
        }
        return sb.toString();
    }

    private static void csvLine(StringBuilder sb, List<String> cells) {
        for (int i = 0; i < cells.size(); i++) {
            String c = cells.get(i);
            if (c.indexOf(',') >= 0 || c.indexOf('"') >= 0 || c.indexOf('\n') >= 0) {
                c = '"' + c.replace("\"", "\"\"") + '"';
            }
            sb.append(i == 0 ? "" : ",").append(c);
        }
        sb.append('\n');
    }

    /** The table as Markdown; columns whose first row is a number (or a percentage such as 12.5%) are right-aligned. */
    public String markdown() {
        StringBuilder sb = new StringBuilder("|");
        for (String h : header) {
            sb.append(' ').append(h.replace("|", "\\|")).append(" |");
        }
        sb.append("\n|");
        for (int i = 0; i < header.size(); i++) {
            sb.append(!rows.isEmpty() && isNumber(rows.get(0).get(i)) ? " ---: |" : " --- |");
        }
        sb.append('\n');
        for (List<String> r : rows) {
            sb.append('|');
            for (String c : r) {
                sb.append(' ').append(c.replace("|", "\\|")).append(" |");
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static boolean isNumber(String s) {
        try {
            Double.parseDouble(s.endsWith("%") ? s.substring(0, s.length() - 1) : s);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** Writes {@link #csv()} to {@code file}, creating its folder. */
    public void writeCsv(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        Files.writeString(file, csv(), StandardCharsets.UTF_8);
    }
}
