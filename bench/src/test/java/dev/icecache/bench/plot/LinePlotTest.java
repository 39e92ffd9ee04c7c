package dev.icecache.bench.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LinePlotTest {

    @Test
    void shouldWriteAPngOfTheStatedSize(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sub/plot.png");
        new LinePlot("t", "x", "y").logX().series("a", new double[] {1024, 4096}, new double[] {1, 2})
                .series("b", new double[] {1024, 4096}, new double[] {3, 1}).savePng(file);
        BufferedImage img = ImageIO.read(file.toFile());
        assertEquals(800, img.getWidth());
        assertEquals(500, img.getHeight());
        assertTrue(file.toFile().length() > 1000, "a plot with axes and two series is more than a blank image");
    }

    @Test
    void shouldRejectSeriesOfMismatchedLength() {
        LinePlot p = new LinePlot("t", "x", "y");
        assertThrows(IllegalArgumentException.class, () -> p.series("a", new double[] {1, 2}, new double[] {1}));
        assertThrows(IllegalArgumentException.class, () -> p.series("a", new double[0], new double[0]));
    }

    @Test
    void shouldRejectTheSameSeriesNameTwice() {
        LinePlot p = new LinePlot("t", "x", "y").series("a", new double[] {1}, new double[] {1});
        assertThrows(IllegalArgumentException.class, () -> p.series("a", new double[] {2}, new double[] {2}));
    }
}
