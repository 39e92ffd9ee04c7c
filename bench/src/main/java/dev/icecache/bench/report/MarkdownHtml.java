package dev.icecache.bench.report;

import java.util.List;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Markdown that BENCHMARKS.md uses, as HTML: headings, paragraphs, bullet lists, pipe
 * tables (with {@code ---:} right alignment), fenced code, and inline code, bold, links and
 * images. Anything else is kept as escaped text, so nothing in the file can inject markup.
 */
final class MarkdownHtml {

    private static final Pattern INLINE = Pattern.compile(
            "`([^`]+)`|\\*\\*(.+?)\\*\\*|!\\[([^\\]]*)\\]\\(([^)\\s]+)\\)|\\[([^\\]]+)\\]\\(([^)\\s]+)\\)");

    private MarkdownHtml() {
    }

    /**
     * Renders {@code lines}.
     *
     * @param imageSource maps an image path as written in the Markdown to the src the page uses
     */
    static String render(List<String> lines, UnaryOperator<String> imageSource) {
        StringBuilder html = new StringBuilder();
        int i = 0;
        while (i < lines.size()) {
            String line = lines.get(i);
            if (line.isBlank()) {
                i++;
            } else if (line.startsWith("```")) {
                html.append("<pre><code>");
                for (i++; i < lines.size() && !lines.get(i).startsWith("```"); i++) {
                    html.append(escape(lines.get(i))).append('\n');
                }
                html.append("</code></pre>\n");
                i++;
            } else if (line.startsWith("#")) {
                int level = Math.min(6, line.indexOf(' ') > 0 ? line.indexOf(' ') : 1);
                html.append("<h").append(level).append('>').append(inline(line.substring(level).strip(), imageSource))
                    .append("</h").append(level).append(">\n");
                i++;
            } else if (line.startsWith("|")) {
                i = table(lines, i, html, imageSource);
            } else if (line.startsWith("- ")) {
                html.append("<ul>\n");
                while (i < lines.size() && lines.get(i).startsWith("- ")) {
                    StringBuilder item = new StringBuilder(lines.get(i).substring(2));
                    for (i++; i < lines.size() && lines.get(i).startsWith("  ") && !lines.get(i).isBlank(); i++) {
                        item.append(' ').append(lines.get(i).strip());
                    }
                    html.append("<li>").append(inline(item.toString(), imageSource)).append("</li>\n");
                }
                html.append("</ul>\n");
            } else {
                StringBuilder para = new StringBuilder(line.strip());
                for (i++; i < lines.size() && isParagraphLine(lines.get(i)); i++) {
                    para.append(' ').append(lines.get(i).strip());
                }
                html.append("<p>").append(inline(para.toString(), imageSource)).append("</p>\n");
            }
        }
        return html.toString();
    }

    private static boolean isParagraphLine(String line) {
        return !line.isBlank() && !line.startsWith("#") && !line.startsWith("|") && !line.startsWith("- ")
                && !line.startsWith("```");
    }

    private static int table(List<String> lines, int start, StringBuilder html, UnaryOperator<String> imageSource) {
        List<String> header = cells(lines.get(start));
        boolean hasRule = start + 1 < lines.size() && lines.get(start + 1).matches("\\|[\\s:|-]+\\|?\\s*");
        List<String> rule = hasRule ? cells(lines.get(start + 1)) : List.of();
        html.append("<table>\n<thead><tr>");
        for (int c = 0; c < header.size(); c++) {
            html.append("<th").append(align(rule, c)).append('>').append(inline(header.get(c), imageSource)).append("</th>");
        }
        html.append("</tr></thead>\n<tbody>\n");
        int i = start + (hasRule ? 2 : 1);
        for (; i < lines.size() && lines.get(i).startsWith("|"); i++) {
            List<String> row = cells(lines.get(i));
            html.append("<tr>");
            for (int c = 0; c < row.size(); c++) {
                html.append("<td").append(align(rule, c)).append('>').append(inline(row.get(c), imageSource)).append("</td>");
            }
            html.append("</tr>\n");
        }
        html.append("</tbody>\n</table>\n");
        return i;
    }

    private static String align(List<String> rule, int column) {
        return column < rule.size() && rule.get(column).endsWith(":") ? " class=\"num\"" : "";
    }

    /** The cells of a pipe-table row; {@code \|} stays a literal bar. */
    static List<String> cells(String row) {
        String body = row.strip();
        body = body.substring(1, body.endsWith("|") && body.length() > 1 && !body.endsWith("\\|") ? body.length() - 1 : body.length());
        return List.of(body.split("(?<!\\\\)\\|", -1)).stream().map(c -> c.strip().replace("\\|", "|")).toList();
    }

    static String inline(String text, UnaryOperator<String> imageSource) {
        StringBuilder out = new StringBuilder();
        Matcher m = INLINE.matcher(text);
        int last = 0;
        while (m.find()) {
            out.append(escape(text.substring(last, m.start())));
            if (m.group(1) != null) {
                out.append("<code>").append(escape(m.group(1))).append("</code>");
            } else if (m.group(2) != null) {
                out.append("<strong>").append(inline(m.group(2), imageSource)).append("</strong>");
            } else if (m.group(4) != null) {
                out.append("<img class=\"plot\" alt=\"").append(escape(m.group(3))).append("\" src=\"")
                   .append(escape(imageSource.apply(m.group(4)))).append("\">");
            } else {
                out.append("<a href=\"").append(escape(m.group(6))).append("\">").append(escape(m.group(5))).append("</a>");
            }
            last = m.end();
        }
        return out.append(escape(text.substring(last))).toString();
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
