package dev.icecache.bench.document;

import dev.icecache.bench.plot.ResultTable;
import dev.icecache.bench.plot.RunInfo;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * The markdown of {@code bench document}: time to summary per (length, policy), prefill and
 * decode with their splits, and llama.cpp beside.
 *
 * <pre>
 *   end-to-end rows  measured: prefill of n tokens + (generate - 1) steps (the first token comes from the prefill)
 *   integrated rows  prefill = integral over depth of the per-token time of the measured blocks
 *                    (linear between depths, the first block's before it); decode = the block's
 *                    mean step at that depth x (generate - 1)
 *   llama.cpp        measured prefill + median step x generate; beyond the last measured length
 *                    fitted: prefill power law through the last two lengths (exponent &gt;= 1),
 *                    step linear through them (constant from one)
 * </pre>
 */
final class DocumentReport {

    private final List<DocumentCsv.Row> rows;
    private final int generate;

    DocumentReport(List<DocumentCsv.Row> rows, int generate) {
        this.rows = rows;
        this.generate = generate;
    }

    /** One line of the summary table. */
    record Summary(int length, String policy, String source, double prefill, double decode) {

        double total() {
            return prefill + decode;
        }
    }

    List<Summary> summaries() {
        List<Summary> out = new ArrayList<>();
        TreeSet<Integer> lengths = new TreeSet<>();
        for (DocumentCsv.Row r : rows) {
            lengths.add(r.length());
            if (r.kind().equals("end-to-end")) {
                out.add(new Summary(r.length(), r.policy(), "end to end", r.prefill().seconds(), r.decode().seconds()));
            }
        }
        for (String policy : policiesOf("block")) {
            List<DocumentCsv.Row> blocks = of("block", policy);
            for (DocumentCsv.Row b : blocks) {
                double decode = b.decode().seconds() / b.decode().tokens() * (generate - 1);
                out.add(new Summary(b.length(), policy, "blocks, integrated", integratePrefill(blocks, b.length()), decode));
            }
        }
        List<DocumentCsv.Row> llama = of("llamacpp", "LLAMA_CPP");
        for (DocumentCsv.Row r : llama) {
            out.add(new Summary(r.length(), "llama.cpp", "measured", r.prefill().seconds(), r.decode().seconds()));
        }
        if (!llama.isEmpty()) {
            DocumentCsv.Row last = llama.get(llama.size() - 1);
            for (int n : lengths) {
                if (n > last.length()) {
                    out.add(new Summary(n, "llama.cpp", "**fitted**", fitPrefill(llama, n), fitDecode(llama, n)));
                }
            }
        }
        out.sort(Comparator.comparingInt(Summary::length).thenComparing(Summary::policy));
        return out;
    }

    /** Integral of the per-token prefill time from 0 to {@code n} through the blocks' depths. */
    static double integratePrefill(List<DocumentCsv.Row> blocks, int n) {
        double total = 0;
        int prevDepth = 0;
        double prevCost = perToken(blocks.get(0));
        for (DocumentCsv.Row b : blocks) {
            if (b.length() > n) {
                break;
            }
            double cost = perToken(b);
            total += (b.length() - prevDepth) * (prevCost + cost) / 2;
            prevDepth = b.length();
            prevCost = cost;
        }
        return total + (n - prevDepth) * prevCost;
    }

    private static double perToken(DocumentCsv.Row b) {
        return b.prefill().seconds() / b.prefill().tokens();
    }

    static double fitPrefill(List<DocumentCsv.Row> llama, int n) {
        DocumentCsv.Row last = llama.get(llama.size() - 1);
        double exponent = 2;
        if (llama.size() >= 2) {
            DocumentCsv.Row before = llama.get(llama.size() - 2);
            exponent = Math.max(1, Math.log(last.prefill().seconds() / before.prefill().seconds())
                    / Math.log((double) last.length() / before.length()));
        }
        return last.prefill().seconds() * Math.pow((double) n / last.length(), exponent);
    }

    static double fitDecode(List<DocumentCsv.Row> llama, int n) {
        DocumentCsv.Row last = llama.get(llama.size() - 1);
        if (llama.size() < 2) {
            return last.decode().seconds();
        }
        DocumentCsv.Row before = llama.get(llama.size() - 2);
        double slope = (last.decode().seconds() - before.decode().seconds()) / (last.length() - before.length());
        return last.decode().seconds() + Math.max(0, slope) * (n - last.length());
    }

    private List<DocumentCsv.Row> of(String kind, String policy) {
        List<DocumentCsv.Row> out = new ArrayList<>();
        for (DocumentCsv.Row r : rows) {
            if (r.kind().equals(kind) && r.policy().equals(policy)) {
                out.add(r);
            }
        }
        out.sort(Comparator.comparingInt(DocumentCsv.Row::length));
        return out;
    }

    private TreeSet<String> policiesOf(String kind) {
        TreeSet<String> s = new TreeSet<>();
        for (DocumentCsv.Row r : rows) {
            if (r.kind().equals(kind)) {
                s.add(r.policy());
            }
        }
        return s;
    }

    String markdown(String command, RunInfo info) {
        StringBuilder sb = new StringBuilder();
        sb.append("\n## document: time to summary (prefill + ").append(generate).append(" generated tokens)\n\n");
        sb.append("- command: `").append(command).append("`\n");
        sb.append(info.markdown());
        sb.append("\n| length | engine / policy | source | prefill s | decode s | time to summary s | vs llama.cpp |\n");
        sb.append("| ---: | --- | --- | ---: | ---: | ---: | ---: |\n");
        List<Summary> all = summaries();
        for (Summary s : all) {
            Summary llama = null;
            for (Summary o : all) {
                if (o.length() == s.length() && o.policy().equals("llama.cpp")) {
                    llama = o;
                }
            }
            String ratio = llama == null ? "-" : String.format(Locale.ROOT, "%.2f", s.total() / llama.total());
            sb.append(String.format(Locale.ROOT, "| %d | %s | %s | %s | %s | %s | %s |%n", s.length(), s.policy(),
                    s.source(), ResultTable.num(s.prefill()), ResultTable.num(s.decode()), ResultTable.num(s.total()), ratio));
        }
        sb.append("\nSplit (seconds) of every measured point; `block` rows are one block of real tokens at that depth"
                + " and the decode steps after it; load is the 1/5/15-minute load average when the point finished.\n\n");
        sb.append("| kind | policy | length | prefill tokens | prefill s | tok/s | index | moves | attention | append | model"
                + " | decode tokens | decode s | index | moves | attention | append | model | load |\n");
        sb.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
        for (DocumentCsv.Row r : rows) {
            SummaryTime p = r.prefill();
            SummaryTime d = r.decode();
            sb.append(String.format(Locale.ROOT, "| %s | %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |%n",
                    r.kind(), r.policy(), r.length(), p.tokens(), ResultTable.num(p.seconds()), ResultTable.num(p.rate()),
                    ResultTable.num(p.indexSeconds()), ResultTable.num(p.movesSeconds()), ResultTable.num(p.attentionSeconds()),
                    ResultTable.num(p.appendSeconds()), ResultTable.num(p.modelSeconds()), d.tokens(),
                    ResultTable.num(d.seconds()), ResultTable.num(d.indexSeconds()), ResultTable.num(d.movesSeconds()),
                    ResultTable.num(d.attentionSeconds()), ResultTable.num(d.appendSeconds()), ResultTable.num(d.modelSeconds()),
                    r.load()));
        }
        return sb.toString();
    }
}
