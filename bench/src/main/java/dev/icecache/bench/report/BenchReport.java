package dev.icecache.bench.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * One self-contained HTML page of the benchmark results: BENCHMARKS.md rendered, then every PNG
 * plot under the results folder that the Markdown does not already show. Images are linked by
 * paths relative to the page, so the folder can be copied or served as it is.
 *
 * <p>The page carries a small script that, once every image has settled, writes
 * {@code data-images="LOADED/TOTAL"} on {@code <body>} and marks broken images, so a headless
 * browser (and a reader) can tell that every plot loaded.
 */
public final class BenchReport {

    private static final String STYLE = "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;"
            + "line-height:1.4}table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;"
            + "padding:.2em .6em}td.num,th.num{text-align:right}code,pre{background:#f4f4f4}pre{padding:.5em;"
            + "overflow:auto}img.plot{max-width:100%;display:block;margin:1em 0}img.broken{outline:3px solid red}";

    private static final String IMAGE_CHECK = "window.addEventListener('load',function(){"
            + "var imgs=document.images,ok=0;for(var i=0;i<imgs.length;i++){"
            + "if(imgs[i].complete&&imgs[i].naturalWidth>0){ok++;}else{imgs[i].className+=' broken';}}"
            + "document.body.setAttribute('data-images',ok+'/'+imgs.length);});";

    private BenchReport() {
    }

    /**
     * Writes the page.
     *
     * @param benchmarks the BENCHMARKS.md file
     * @param results folder searched (recursively) for *.png plots; may not exist
     * @param output the HTML file to write
     * @return the number of images on the page
     */
    public static int write(Path benchmarks, Path results, Path output) throws IOException {
        if (!Files.isRegularFile(benchmarks)) {
            throw new IllegalArgumentException("benchmarks file " + benchmarks + " not found; run from the repository"
                    + " root or pass --benchmarks FILE");
        }
        Path outDir = output.toAbsolutePath().getParent();
        Path mdDir = benchmarks.toAbsolutePath().getParent();
        Set<Path> shown = new LinkedHashSet<>();
        String body = MarkdownHtml.render(Files.readAllLines(benchmarks, StandardCharsets.UTF_8), src -> {
            if (src.contains("://")) {
                return src;
            }
            Path image = mdDir.resolve(src).normalize();
            shown.add(image);
            return relative(outDir, image);
        });
        StringBuilder page = new StringBuilder(body.length() + 4096)
                .append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<title>IceCache-Flink benchmarks</title>\n<style>").append(STYLE).append("</style>\n")
                .append("<script>").append(IMAGE_CHECK).append("</script>\n</head>\n<body>\n")
                .append(body);
        List<Path> plots = plots(results);
        plots.removeIf(shown::contains);
        if (!plots.isEmpty()) {
            page.append("<h1>Plots</h1>\n");
            for (Path plot : plots) {
                String name = MarkdownHtml.escape(results.toAbsolutePath().normalize().relativize(plot).toString());
                page.append("<figure><img class=\"plot\" alt=\"").append(name).append("\" src=\"")
                    .append(MarkdownHtml.escape(relative(outDir, plot))).append("\"><figcaption>").append(name)
                    .append("</figcaption></figure>\n");
            }
        }
        page.append("</body>\n</html>\n");
        Files.createDirectories(outDir);
        Files.writeString(output, page, StandardCharsets.UTF_8);
        return shown.size() + plots.size();
    }

    private static List<Path> plots(Path results) throws IOException {
        List<Path> plots = new ArrayList<>();
        if (!Files.isDirectory(results)) {
            return plots;
        }
        try (Stream<Path> files = Files.walk(results)) {
            files.filter(p -> p.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".png"))
                 .map(p -> p.toAbsolutePath().normalize()).sorted().forEach(plots::add);
        }
        return plots;
    }

    /** {@code target} relative to {@code dir}, with '/' separators as a URL wants. */
    private static String relative(Path dir, Path target) {
        return dir.relativize(target.toAbsolutePath().normalize()).toString().replace('\\', '/');
    }
}
