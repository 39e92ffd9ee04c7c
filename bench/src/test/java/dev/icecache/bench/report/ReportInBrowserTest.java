package dev.icecache.bench.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opens the report in headless Chromium (Debian's {@code chromium} package) and reads back what
 * the page's own check wrote: how many images loaded. Skipped when no Chromium is installed.
 */
class ReportInBrowserTest {

    private static final Pattern IMAGES = Pattern.compile("data-images=\"(\\d+)/(\\d+)\"");

    @TempDir
    Path dir;

    @Test
    void shouldLoadEveryPlotOfTheReport() throws Exception {
        Path results = Files.createDirectories(dir.resolve("bench/results"));
        BenchReportTest.png(results.resolve("a.png"));
        BenchReportTest.png(results.resolve("b.png"));
        Path md = Files.writeString(dir.resolve("BENCHMARKS.md"), "# B\n\n![a](bench/results/a.png)\n");
        Path page = results.resolve("report.html");
        BenchReport.write(md, results, page);
        assertEquals("2/2", imagesLoaded(page));
    }

    @Test
    void shouldSeeABrokenPlotAsNotLoaded() throws Exception {
        Path results = Files.createDirectories(dir.resolve("bench/results"));
        BenchReportTest.png(results.resolve("a.png"));
        Files.writeString(results.resolve("corrupt.png"), "not a png");
        Path md = Files.writeString(dir.resolve("BENCHMARKS.md"), "# B\n\n![gone](bench/results/missing.png)\n");
        Path page = results.resolve("report.html");
        BenchReport.write(md, results, page);
        assertEquals("1/3", imagesLoaded(page));
    }

    private String imagesLoaded(Path page) throws IOException, InterruptedException {
        Path chromium = chromium();
        Path dom = dir.resolve("dom.html");
        Process p = new ProcessBuilder(List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--user-data-dir=" + dir.resolve("profile"), "--allow-file-access-from-files",
                "--virtual-time-budget=10000", "--dump-dom", page.toUri().toString()))
                .redirectOutput(dom.toFile()).redirectError(dir.resolve("chromium.err").toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "chromium did not finish; see " + dir.resolve("chromium.err"));
        String html = Files.readString(dom, StandardCharsets.UTF_8);
        Matcher m = IMAGES.matcher(html);
        assertTrue(m.find(), "the page's image check did not run (exit " + p.exitValue() + "): "
                + Files.readString(dir.resolve("chromium.err")) + html);
        return m.group(1) + "/" + m.group(2);
    }

    /** Chromium on PATH, else a skip; with CI=true a missing browser fails. */
    private static Path chromium() {
        for (String name : new String[] {"chromium", "chromium-browser", "google-chrome"}) {
            for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
                Path p = Path.of(d, name);
                if (Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        String msg = "no chromium on PATH (apt-get install -y chromium); browser check skipped";
        if ("true".equals(System.getenv("CI"))) {
            throw new AssertionError(msg);
        }
        assumeTrue(false, msg);
        return null;
    }
}
