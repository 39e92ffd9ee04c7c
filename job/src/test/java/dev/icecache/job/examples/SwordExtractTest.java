package dev.icecache.job.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.icecache.job.examples.ZTextFixture.Testament;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * examples/tools/sword_text.py against zText modules written here from the format. Slot numbers
 * come from the versification facts, not from the tool: a testament index holds a module and a
 * testament heading, then per book a heading and per chapter a heading and its verses. KJV's Old
 * Testament has 39 books, 929 chapters and 23,145 verses (24,115 slots), its New Testament 27
 * books, 260 chapters and 7,957 verses (8,246 slots). NRSVA's index sizes (31,027 and 8,248) and
 * Tobit's place (book heading right after the 24,113 slots of KJV's 39 books) are as in Debian's
 * sword-text-web module.
 */
class SwordExtractTest {

    private static final String TOOL = "sword_text";
    private static final int KJV_OT_SLOTS = 2 + 39 + 929 + 23_145;
    private static final int KJV_NT_SLOTS = 2 + 27 + 260 + 7_957;
    private static final int NRSVA_OT_SLOTS = 31_027;
    private static final int NRSVA_NT_SLOTS = 8_248;
    private static final String CONF = "ModDrv=zText\nSourceType=OSIS\nEncoding=UTF-8\nCompressType=ZIP\n"
            + "BlockType=BOOK\n";

    /** Genesis 1:1 with a Strong's-tagged word, a footnote where a space was, and an entity. */
    private static final String GEN_1_1 = "<w lemma=\"strong:H7225\">In</w> the beginning, <w>God</w>"
            + "<note placement=\"foot\"><reference type=\"annotateRef\">1:1 </reference>Hebrew: Elohim.</note>"
            + "<w>created</w> the heavens &amp; the earth. ";
    /** Genesis 1:2 with a section heading and two lines of poetry (milestone form). */
    private static final String GEN_1_2 = "<title type=\"section\">The Creation</title><l level=\"1\" sID=\"a\"/>"
            + "The earth was formless<l eID=\"a\"/><l level=\"2\" sID=\"b\"/>and empty.<l eID=\"b\"/>";
    /** Revelation 22:21 followed by the end of the book and a glossary, as importers attach them. */
    private static final String REV_22_21 = "The grace of the Lord Jesus Christ be with all the saints. Amen."
            + "<chapter eID=\"Rev.22\"/> <div eID=\"b1\" osisID=\"Rev\" type=\"book\"/> "
            + "<div sID=\"g1\" type=\"glossary\"/>Abba is a word for father.<div eID=\"g1\" type=\"glossary\"/>";

    @TempDir
    Path dir;

    private static String chapter(String osisId) {
        return "<chapter osisID=\"" + osisId + "\" sID=\"" + osisId + "\"/>";
    }

    private static Testament kjvOld(String genesisChapterMarker) {
        return new Testament(KJV_OT_SLOTS)
                .put(1, 0, "<milestone type=\"x-importer\"/>")
                .put(2, 0, "<div type=\"front\">Preface to this Bible.</div>")
                .put(3, 0, chapter(genesisChapterMarker))
                .put(4, 0, GEN_1_1)
                .put(5, 1, GEN_1_2);
    }

    private static Testament kjvNew() {
        int rev22v21 = KJV_NT_SLOTS - 1;
        return new Testament(KJV_NT_SLOTS).put(rev22v21 - 21, 0, chapter("Rev.22")).put(rev22v21, 0, REV_22_21);
    }

    @Test
    void shouldWriteOneLinePerVerseWithMarkupStrippedInKjvOrder() throws Exception {
        ZTextFixture.write(dir, "TwoBooks", CONF, kjvOld("Gen.1"), kjvNew());
        PythonTool.Run run = PythonTool.named("sword_text.py").run(dir, dir.toString());
        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals("Genesis 1:1 In the beginning, God created the heavens & the earth.\n"
                + "Genesis 1:2 The earth was formless and empty.\n"
                + "Revelation 22:21 The grace of the Lord Jesus Christ be with all the saints. Amen.\n",
                run.stdoutText());
    }

    @Test
    void shouldPlaceVersesByTheNrsvaVersificationWhenTheConfSaysSo() throws Exception {
        int tobitHeading = 2 + 24_113;
        int rev22v21 = NRSVA_NT_SLOTS - 1;
        Testament ot = new Testament(NRSVA_OT_SLOTS)
                .put(tobitHeading + 1, 0, chapter("Tob.1"))
                .put(tobitHeading + 2, 0, "The book of the words of Tobit, the son of Tobiel,");
        Testament nt = new Testament(NRSVA_NT_SLOTS).put(rev22v21 - 21, 0, chapter("Rev.22")).put(rev22v21, 0, "Amen.");
        ZTextFixture.write(dir, "Deutero", CONF + "Versification=NRSVA\n", ot, nt);
        PythonTool.Run run = PythonTool.named("sword_text.py").run(dir, dir.toString(), "--module", "deutero");
        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals("Tobit 1:1 The book of the words of Tobit, the son of Tobiel,\nRevelation 22:21 Amen.\n",
                run.stdoutText());
    }

    @Test
    void shouldRefuseAnIndexWhoseSizeDoesNotFitTheVersification() throws Exception {
        ZTextFixture.write(dir, "Mislabelled", CONF + "Versification=KJV\n",
                new Testament(NRSVA_OT_SLOTS).put(4, 0, "text"), new Testament(NRSVA_NT_SLOTS));
        PythonTool.Run run = PythonTool.named("sword_text.py").run(dir, dir.toString());
        PythonTool.assertOneLineError(run, TOOL, "has 31027 slots but KJV versification needs 24115");
    }

    @Test
    void shouldRefuseAChapterMarkerThatContradictsTheVersification() throws Exception {
        ZTextFixture.write(dir, "Shifted", CONF, kjvOld("Gen.2"), kjvNew());
        PythonTool.Run run = PythonTool.named("sword_text.py").run(dir, dir.toString());
        PythonTool.assertOneLineError(run, TOOL, "holds chapter Gen.2 where KJV versification puts Gen.1");
    }

    @Test
    void shouldFailWithOneLineWhenTheBlockFileIsTruncated() throws Exception {
        ZTextFixture.write(dir, "Cut", CONF, kjvOld("Gen.1"), kjvNew());
        Path bzz = dir.resolve("modules/texts/ztext/cut/ot.bzz");
        try (FileChannel ch = FileChannel.open(bzz, StandardOpenOption.WRITE)) {
            ch.truncate(Files.size(bzz) - 5);
        }
        PythonTool.Run run = PythonTool.named("sword_text.py").run(dir, dir.toString());
        PythonTool.assertOneLineError(run, TOOL, "ot.bzz is truncated: block 1");
    }

    @Test
    void shouldRefuseCompressionItCannotRead() throws Exception {
        ZTextFixture.write(dir, "Lzss", CONF.replace("CompressType=ZIP", "CompressType=LZSS"), kjvOld("Gen.1"),
                kjvNew());
        PythonTool.Run run = PythonTool.named("sword_text.py").run(dir, dir.toString());
        PythonTool.assertOneLineError(run, TOOL, "CompressType=LZSS; only ZIP (zlib) is supported");
    }
}
