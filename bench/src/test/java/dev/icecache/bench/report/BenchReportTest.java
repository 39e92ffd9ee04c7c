package dev.icecache.bench.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rendering of BENCHMARKS.md's Markdown and the report page's image links. */
class BenchReportTest {

    @TempDir
    Path dir;

    @Test
    void shouldRenderTablesWithRightAlignedNumberColumns() {
        String html = MarkdownHtml.render(List.of("| engine | tok/s |", "| --- | ---: |", "| icecache | 412.1 |"),
                UnaryOperator.identity());
        assertEquals("<table>\n<thead><tr><th>engine</th><th class=\"num\">tok/s</th></tr></thead>\n<tbody>\n"
                + "<tr><td>icecache</td><td class=\"num\">412.1</td></tr>\n</tbody>\n</table>\n", html);
    }

    @Test
    void shouldRenderHeadingsListsAndInlineMarkupAndEscapeTheRest() {
        String html = MarkdownHtml.render(List.of("## Speed <b>", "", "- command: `bin/icecache bench x`",
                "  --runs 5", "", "**ratio = 0.55** & more", "text"), UnaryOperator.identity());
        assertEquals("<h2>Speed &lt;b&gt;</h2>\n<ul>\n<li>command: <code>bin/icecache bench x</code> --runs 5</li>\n"
                + "</ul>\n<p><strong>ratio = 0.55</strong> &amp; more text</p>\n", html);
    }

    @Test
    void shouldKeepEscapedBarsInsideCells() {
        assertEquals(List.of("a|b", "c"), MarkdownHtml.cells("| a\\|b | c |"));
    }

    @Test
    void shouldLinkMarkdownImagesRelativeToThePageAndAddUnreferencedPlots() throws IOException {
        Path results = Files.createDirectories(dir.resolve("bench/results/speed"));
        png(results.resolve("decode.png"));
        png(dir.resolve("bench/results/memory.png"));
        Path md = Files.writeString(dir.resolve("BENCHMARKS.md"), "# B\n\n![decode](bench/results/speed/decode.png)\n");
        Path page = dir.resolve("bench/results/report.html");
        assertEquals(2, BenchReport.write(md, dir.resolve("bench/results"), page));
        String html = Files.readString(page);
        assertTrue(html.contains("<img class=\"plot\" alt=\"decode\" src=\"speed/decode.png\">"), html);
        assertTrue(html.contains("src=\"memory.png\""), html);
        assertEquals(1, html.split("speed/decode.png", -1).length - 1, "a plot shown twice:\n" + html);
    }

    @Test
    void shouldRejectAMissingBenchmarksFile() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> BenchReport.write(dir.resolve("nope.md"), dir, dir.resolve("r.html")));
        assertTrue(e.getMessage().contains("--benchmarks"), e.getMessage());
    }

    static void png(Path file) throws IOException {
        BufferedImage image = new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB);
        for (int x = 0; x < 40; x++) {
            image.setRGB(x, x % 30, 0xff0000);
        }
        assertTrue(ImageIO.write(image, "png", file.toFile()), "no PNG writer");
    }
}
