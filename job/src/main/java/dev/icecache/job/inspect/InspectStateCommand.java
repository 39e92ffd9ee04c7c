package dev.icecache.job.inspect;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import dev.icecache.job.SummarizeJob;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.ArrayNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.ObjectNode;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code icecache inspect-state DIR}: what a savepoint or retained checkpoint of the summarize
 * job holds per document: progress, KV pages, index trees and their bytes.
 */
@Command(name = "inspect-state", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Show what a savepoint or retained checkpoint holds per document: tokens, phase,"
                + " KV pages, index tree levels and cells, bytes.",
        footer = {"", "Examples:",
            "  icecache inspect-state /tmp/savepoints/savepoint-3f2a1c-0123456789ab",
            "  icecache inspect-state /tmp/checkpoints/<job-id>/chk-42 --doc long.txt",
            "  icecache inspect-state /tmp/savepoints/savepoint-3f2a1c-0123456789ab --json"})
public final class InspectStateCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR",
            description = "Savepoint directory or retained checkpoint directory (chk-N), the one holding _metadata.")
    Path dir;

    @Option(names = "--uid", defaultValue = SummarizeJob.DECODER_UID, paramLabel = "UID",
            description = "uid of the IceCache decoder operator (default: ${DEFAULT-VALUE}).")
    String uid;

    @Option(names = "--doc", paramLabel = "ID",
            description = "Show only this document (default: every document in the state).")
    String doc;

    @Option(names = "--json", defaultValue = "false",
            description = "Print one JSON object instead of a table (default: ${DEFAULT-VALUE}).")
    boolean json;

    @Override
    public Integer call() throws Exception {
        CommandLine cli = spec.commandLine();
        if (uid.isBlank()) {
            throw new CommandLine.ParameterException(cli, "--uid must not be empty");
        }
        StateContents contents = StateContents.read(dir, uid);
        if (doc != null) {
            contents = onlyDocument(contents, doc);
        }
        PrintWriter out = cli.getOut();
        if (json) {
            out.println(JSON.writeValueAsString(toJson(contents)));
        } else {
            printTable(out, contents);
        }
        out.flush();
        return 0;
    }

    private static StateContents onlyDocument(StateContents contents, String id) {
        List<DocumentState> match = contents.documents().stream().filter(d -> d.docId().equals(id)).toList();
        if (match.isEmpty()) {
            List<String> ids = contents.documents().stream().map(DocumentState::docId).toList();
            throw new IllegalArgumentException("document '" + id + "' is not in the state of " + contents.dir() + " ("
                    + (ids.isEmpty() ? "it holds no document" : "documents: "
                    + String.join(", ", ids.subList(0, Math.min(5, ids.size()))) + (ids.size() > 5 ? ", ..." : ""))
                    + ")");
        }
        return new StateContents(contents.dir(), contents.checkpointId(), contents.uid(), match);
    }

    private static void printTable(PrintWriter out, StateContents c) {
        out.printf(Locale.ROOT, "state:     %s (checkpoint %d), operator uid %s%n", c.dir(), c.checkpointId(), c.uid());
        out.printf(Locale.ROOT, "documents: %d (%s)%n", c.documents().size(), phases(c.documents()));
        int width = "document".length();
        for (DocumentState d : c.documents()) {
            width = Math.max(width, d.docId().length());
        }
        String head = "%-" + width + "s  %-7s  %9s  %9s  %4s  %9s  %7s  %13s  %6s  %11s  %6s  %s%s%n";
        String row = "%-" + width + "s  %-7s  %9d  %9d  %4d  %9d  %7d  %,13d  %6d  %,11d  %6d  %s%s%n";
        boolean segments = c.documents().stream().anyMatch(d -> !d.segment().isEmpty());
        out.printf(Locale.ROOT, head, "document", "phase", "position", "prompt", "held", "generated", "pages",
                "page bytes", "cells", "cell bytes", "levels", "nodes per level (0, 1, ...)",
                segments ? "  segment (document longer than the context)" : "");
        for (DocumentState d : c.documents()) {
            printRow(out, row, d, segments);
        }
        if (c.documents().size() > 1) {
            printRow(out, row, c.total(), segments);
        }
        DocumentState t = c.total();
        out.printf(Locale.ROOT, "bytes:     %,d in all (pages %,d, page patches %,d in %,d, index cells %,d, cache"
                + " headers %,d)%n", t.totalBytes(), t.pageBytes(), t.patchBytes(), t.patches(), t.cellBytes(),
                t.headerBytes());
        for (DocumentState d : c.documents()) {
            if (d.recordedPages() != d.pages() && !"unknown".equals(d.phase())) {
                out.printf(Locale.ROOT, "warning:   %s records %d pages but its page state holds %d%n", d.docId(),
                        d.recordedPages(), d.pages());
            }
        }
    }

    private static void printRow(PrintWriter out, String row, DocumentState d, boolean segments) {
        String levels = levels(d);
        String segment = !segments ? "" : " ".repeat(Math.max(0, "nodes per level (0, 1, ...)".length()
                - levels.length())) + "  " + (d.segment().isEmpty() ? "-" : d.segment());
        out.printf(Locale.ROOT, row, d.docId(), d.phase(), d.position(), d.promptTokens(), d.heldTokens(),
                d.generated(), d.pages(), d.pageBytes(), d.cells(), d.cellBytes(), d.levels(), levels, segment);
    }

    private static String levels(DocumentState d) {
        if (d.levels() == 0) {
            return "-";
        }
        StringBuilder b = new StringBuilder();
        for (int l = 0; l < d.levels(); l++) {
            b.append(l == 0 ? "" : "/").append(d.nodesPerLevel()[l]);
        }
        return b.toString();
    }

    private static String phases(List<DocumentState> documents) {
        int prefill = 0;
        int decode = 0;
        int done = 0;
        int rejected = 0;
        for (DocumentState d : documents) {
            switch (d.phase()) {
                case "prefill" -> prefill++;
                case "decode" -> decode++;
                case "done" -> done++;
                case "rejected" -> rejected++;
                default -> { }
            }
        }
        return prefill + " prefill, " + decode + " decode, " + done + " done"
                + (rejected == 0 ? "" : ", " + rejected + " rejected (prompt beyond the context)");
    }

    private static ObjectNode toJson(StateContents c) {
        ObjectNode root = JSON.createObjectNode();
        root.put("dir", c.dir().toString());
        root.put("checkpoint_id", c.checkpointId());
        root.put("uid", c.uid());
        ArrayNode docs = root.putArray("documents");
        for (DocumentState d : c.documents()) {
            docs.add(toJson(d));
        }
        ObjectNode total = toJson(c.total());
        total.remove("doc");
        total.remove("phase");
        root.set("total", total);
        return root;
    }

    private static ObjectNode toJson(DocumentState d) {
        ObjectNode n = JSON.createObjectNode();
        n.put("doc", d.docId());
        n.put("phase", d.phase());
        n.put("position", d.position());
        n.put("prompt_tokens", d.promptTokens());
        n.put("held_tokens", d.heldTokens());
        n.put("generated", d.generated());
        n.put("pieces", d.pieces());
        n.put("pages", d.pages());
        n.put("recorded_pages", d.recordedPages());
        n.put("page_bytes", d.pageBytes());
        n.put("page_rows", d.pageRows());
        n.put("patches", d.patches());
        n.put("patch_bytes", d.patchBytes());
        n.put("header_bytes", d.headerBytes());
        n.put("cells", d.cells());
        n.put("cell_bytes", d.cellBytes());
        n.put("trees", d.trees());
        n.put("nodes", d.nodes());
        n.put("levels", d.levels());
        ArrayNode perLevel = n.putArray("nodes_per_level");
        for (int l = 0; l < d.levels(); l++) {
            perLevel.add(d.nodesPerLevel()[l]);
        }
        n.put("total_bytes", d.totalBytes());
        if (!d.segment().isEmpty()) {
            n.put("segment", d.segment());
        }
        return n;
    }
}
