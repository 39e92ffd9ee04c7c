package dev.icecache.job.examples;

import static dev.icecache.job.examples.RSerializationWriter.Encoding.ASCII;
import static dev.icecache.job.examples.RSerializationWriter.Encoding.LATIN1;
import static dev.icecache.job.examples.RSerializationWriter.Encoding.NATIVE;
import static dev.icecache.job.examples.RSerializationWriter.Encoding.UTF8;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.icecache.job.examples.LazyLoadFixture.Compression;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** examples/tools/rdata_text.py against lazy-load databases written here from the format spec. */
class RDataExtractTest {

    private static final String TOOL = "rdata_text";

    @TempDir
    Path dir;

    /** A version-3 character vector: native, UTF-8, NA, Latin-1 and ASCII strings. */
    private static byte[] novel() {
        RSerializationWriter w = new RSerializationWriter(3);
        w.flags(RSerializationWriter.STRSXP, 0).integer(5);
        w.string("It is a truth universally acknowledged,", NATIVE);
        w.string("Café crème – naïve “quoted”", UTF8);
        w.naString();
        w.string("Maître d'hôtel", LATIN1);
        w.string("", ASCII);
        return w.toByteArray();
    }

    /** A version-2 character vector of one string. */
    private static byte[] shortNovel() {
        return new RSerializationWriter(2).asciiStrings("Sir Walter Elliot, of Kellynch Hall").toByteArray();
    }

    /** data.frame(text = c("a", "b", "c"), chapter = 1:3) with compact row names, as R writes it. */
    private static byte[] frame() {
        RSerializationWriter w = new RSerializationWriter(3);
        w.flags(RSerializationWriter.VECSXP, RSerializationWriter.HAS_ATTR | RSerializationWriter.IS_OBJECT).integer(2);
        w.asciiStrings("Chapter 1", "It was a dark night.", "The end.");
        w.flags(RSerializationWriter.INTSXP, 0).integer(3).integer(1).integer(1).integer(2);
        w.taggedCell("names").asciiStrings("text", "chapter");
        w.taggedCell("class").asciiStrings("data.frame");
        w.taggedCell("row.names").flags(RSerializationWriter.INTSXP, 0).integer(2)
                .integer(Integer.MIN_VALUE).integer(-3);
        return w.nil().toByteArray();
    }

    private Path database(Compression compression) throws IOException {
        Map<String, byte[]> values = new LinkedHashMap<>();
        values.put("emma", novel());
        values.put("persuasion", shortNovel());
        values.put("frame", frame());
        return LazyLoadFixture.write(dir, "Rdata", values, compression);
    }

    @ParameterizedTest
    @EnumSource(Compression.class)
    void shouldWriteEachStringAsAUtf8LineWithNaAsWriteLinesDoes(Compression compression) throws Exception {
        Path db = database(compression);
        PythonTool.Run run = PythonTool.named("rdata_text.py").run(dir, db.toString(), "emma");
        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals("It is a truth universally acknowledged,\n"
                + "Café crème – naïve “quoted”\n"
                + "NA\n"
                + "Maître d'hôtel\n"
                + "\n", run.stdoutText());
        assertEquals("", run.stderr());
    }

    @Test
    void shouldWriteEachRequestedObjectToItsOwnFile() throws Exception {
        Path db = database(Compression.ZLIB);
        Path books = dir.resolve("books");
        PythonTool.Run run = PythonTool.named("rdata_text.py")
                .run(dir, "--out-dir", books.toString(), db + ".rdb", "persuasion", "emma", "frame$text");
        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals("Sir Walter Elliot, of Kellynch Hall\n", Files.readString(books.resolve("persuasion.txt")));
        assertEquals(5, Files.readAllLines(books.resolve("emma.txt"), StandardCharsets.UTF_8).size());
        assertEquals("Chapter 1\nIt was a dark night.\nThe end.\n", Files.readString(books.resolve("frame-text.txt")));
    }

    @Test
    void shouldListObjectsWithTypeAndLength() throws Exception {
        Path db = database(Compression.ZLIB);
        PythonTool.Run run = PythonTool.named("rdata_text.py").run(dir, "--list", db.toString());
        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals("emma\tSTRSXP\t5\npersuasion\tSTRSXP\t1\nframe\tdata.frame\t2\n", run.stdoutText());
    }

    @Test
    void shouldAskForAColumnWhenGivenADataFrame() throws Exception {
        Path db = database(Compression.ZLIB);
        PythonTool.Run run = PythonTool.named("rdata_text.py").run(dir, db.toString(), "frame");
        PythonTool.assertOneLineError(run, TOOL, "'frame$COLUMN' (columns: text, chapter)");
    }

    @Test
    void shouldFailWithOneLineWhenTheRdbIsTruncated() throws Exception {
        Path db = database(Compression.ZLIB);
        Path rdb = dir.resolve("Rdata.rdb");
        try (FileChannel ch = FileChannel.open(rdb, StandardOpenOption.WRITE)) {
            ch.truncate(Files.size(rdb) - 7);
        }
        PythonTool.Run run = PythonTool.named("rdata_text.py").run(dir, db.toString(), "frame");
        PythonTool.assertOneLineError(run, TOOL, "Rdata.rdb is truncated");
    }

    @Test
    void shouldFailWithOneLineWhenAValueIsCutShortInsideItsCompressedBytes() throws Exception {
        byte[] whole = novel();
        byte[] cut = java.util.Arrays.copyOf(whole, whole.length - 6);
        Path db = LazyLoadFixture.write(dir, "Rdata", Map.of("emma", cut), Compression.XZ_STORED);
        PythonTool.Run run = PythonTool.named("rdata_text.py").run(dir, db.toString(), "emma");
        PythonTool.assertOneLineError(run, TOOL, "ends early");
    }

    @Test
    void shouldNameTheUnsupportedTypeInItsError() throws Exception {
        byte[] complex = new RSerializationWriter(3).flags(RSerializationWriter.CPLXSXP, 0).integer(1)
                .raw(new byte[16]).toByteArray();
        Path db = LazyLoadFixture.write(dir, "Rdata", Map.of("z", complex), Compression.ZLIB);
        PythonTool.Run run = PythonTool.named("rdata_text.py").run(dir, db.toString(), "z");
        PythonTool.assertOneLineError(run, TOOL, "unsupported type CPLXSXP (15)");
    }

    @Test
    void shouldListTheObjectsWhenTheNameIsUnknown() throws Exception {
        Path db = database(Compression.ZLIB);
        PythonTool.Run run = PythonTool.named("rdata_text.py").run(dir, db.toString(), "mansfieldpark");
        PythonTool.assertOneLineError(run, TOOL, "no object 'mansfieldpark' in Rdata.rdx; it has: emma, persuasion, frame");
    }
}
