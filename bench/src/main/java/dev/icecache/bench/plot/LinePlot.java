package dev.icecache.bench.plot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * A line plot of a few named series against one x axis (context length, usually on a log
 * scale), saved as PNG with XChart. Runs headless: benchmarks run on servers without a display.
 */
public final class LinePlot {

    private final String title;
    private final String xTitle;
    private final String yTitle;
    private final Map<String, double[][]> series = new LinkedHashMap<>(); // name -> {x, y}
    private boolean logX;
    private boolean logY;

    /** A plot with these titles. */
    public LinePlot(String title, String xTitle, String yTitle) {
        this.title = title;
        this.xTitle = xTitle;
        this.yTitle = yTitle;
    }

    /** Puts the x axis on a log scale (contexts 1k..64k). */
    public LinePlot logX() {
        this.logX = true;
        return this;
    }

    /** Puts the y axis on a log scale. */
    public LinePlot logY() {
        this.logY = true;
        return this;
    }

    /**
     * Adds one series; x and y need the same length (at least 1).
     *
     * @throws IllegalArgumentException on mismatched or empty arrays, or a name used twice
     */
    public LinePlot series(String name, double[] x, double[] y) {
        if (x.length != y.length || x.length == 0) {
            throw new IllegalArgumentException("series '" + name + "': x has " + x.length + " points and y "
                    + y.length + "; give the same non-zero number");
        }
        if (series.putIfAbsent(name, new double[][] {x.clone(), y.clone()}) != null) {
            throw new IllegalArgumentException("series '" + name + "' added twice");
        }
        return this;
    }

    /** Writes the plot as a PNG of 800 x 500 pixels to {@code file} (".png" is added when missing). */
    public void savePng(Path file) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(800).height(500).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        chart.getStyler().setXAxisLogarithmic(logX);
        chart.getStyler().setYAxisLogarithmic(logY);
        chart.getStyler().setChartTitleFont(chart.getStyler().getChartTitleFont().deriveFont(14f));
        for (Map.Entry<String, double[][]> e : series.entrySet()) {
            chart.addSeries(e.getKey(), e.getValue()[0], e.getValue()[1]).setMarker(SeriesMarkers.CIRCLE);
        }
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        String name = file.toString();
        BitmapEncoder.saveBitmap(chart, name.endsWith(".png") ? name.substring(0, name.length() - 4) : name,
                BitmapEncoder.BitmapFormat.PNG);
    }
}
