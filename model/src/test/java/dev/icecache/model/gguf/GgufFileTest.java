package dev.icecache.model.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.icecache.model.ModelFormatException;
import dev.icecache.model.tensor.FloatTensor;
import dev.icecache.model.tensor.GgmlType;

/** GGUF bytes laid out by hand from the spec (not by {@link GgufWriter}) read back field by field. */
class GgufFileTest {

    @TempDir
    Path dir;

    /** Little-endian GGUF pieces. */
    private static final class Bytes {
        final ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);

        Bytes str(String s) {
            byte[] u = s.getBytes(StandardCharsets.UTF_8);
            b.putLong(u.length).put(u);
            return this;
        }

        Bytes key(String k, int type) {
            str(k);
            b.putInt(type);
            return this;
        }

        byte[] done() {
            return java.util.Arrays.copyOf(b.array(), b.position());
        }
    }

    private Path write(byte[] bytes) throws IOException {
        Path p = dir.resolve("t.gguf");
        Files.write(p, bytes);
        return p;
    }

    @Test
    void shouldReadEveryMetadataValueTypeAndAnAlignedTensor() throws IOException {
        Bytes g = new Bytes();
        g.b.putInt(GgufFile.MAGIC).putInt(3).putLong(1).putLong(16);
        g.key("u8", 0).b.put((byte) 200);
        g.key("i8", 1).b.put((byte) -5);
        g.key("u16", 2).b.putShort((short) 60000);
        g.key("i16", 3).b.putShort((short) -300);
        g.key("u32", 4).b.putInt(123456);
        g.key("i32", 5).b.putInt(-7);
        g.key("f32", 6).b.putFloat(1.5f);
        g.key("bool", 7).b.put((byte) 1);
        g.key("str", 8).str("héllo");
        g.key("u64", 10).b.putLong(1L << 40);
        g.key("i64", 11).b.putLong(-9);
        g.key("f64", 12).b.putDouble(0.25);
        g.key("general.alignment", 4).b.putInt(64);
        g.key("arr.str", 9).b.putInt(8).putLong(2);
        g.str("a").str("bc");
        g.key("arr.i16", 9).b.putInt(3).putLong(2).putShort((short) 1).putShort((short) -2);
        g.key("arr.bool", 9).b.putInt(7).putLong(3).put((byte) 1).put((byte) 0).put((byte) 1);
        // one F32 tensor of 4 elements at data offset 0
        g.str("w").b.putInt(1).putLong(4).putInt(0).putLong(0);
        int dataStart = (g.b.position() + 63) / 64 * 64;
        g.b.position(dataStart);
        g.b.putFloat(1f).putFloat(-2f).putFloat(3f).putFloat(0.5f);
        GgufFile f = GgufFile.read(write(g.done()));

        GgufMetadata md = f.metadata();
        assertEquals(200, md.getInt("u8", 0));
        assertEquals((byte) -5, md.get("i8"));
        assertEquals(60000, md.getInt("u16", 0));
        assertEquals((short) -300, md.get("i16"));
        assertEquals(123456, md.getInt("u32", 0));
        assertEquals(-7, md.get("i32"));
        assertEquals(1.5f, md.getFloat("f32", 0f));
        assertTrue(md.getBoolean("bool", false));
        assertEquals("héllo", md.getString("str", null));
        assertEquals(1L << 40, md.get("u64"));
        assertEquals(-9L, md.get("i64"));
        assertEquals(0.25f, md.getFloat("f64", 0f));
        assertArrayEquals(new String[] {"a", "bc"}, md.getArray("arr.str", String[].class, "strings"));
        assertArrayEquals(new short[] {1, -2}, md.getArray("arr.i16", short[].class, "int16s"));
        assertArrayEquals(new boolean[] {true, false, true}, md.getArray("arr.bool", boolean[].class, "bools"));
        assertEquals(64, f.alignment());
        assertEquals(dataStart, f.dataOffset());

        GgufTensorInfo w = f.tensors().get("w");
        assertEquals(GgmlType.F32, w.type());
        assertArrayEquals(new long[] {4}, w.dims());
        FloatTensor t = f.mapTensors().get("w");
        assertEquals(-2f, t.getFloat(1));
        assertEquals(0.5f, t.getFloat(3));
    }

    @Test
    void shouldNameKeyAndTypeWhenAValueHasTheWrongType() throws IOException {
        Bytes g = new Bytes();
        g.b.putInt(GgufFile.MAGIC).putInt(3).putLong(0).putLong(1);
        g.key("llama.block_count", 8).str("four");
        GgufFile f = GgufFile.read(write(g.done()));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> f.metadata().getInt("llama.block_count", 0));
        assertTrue(e.getMessage().contains("GGUF key 'llama.block_count' is String, expected an integer"), e.getMessage());
    }

    @Test
    void shouldRejectUnknownValueTypeAndBadDims() throws IOException {
        Bytes g = new Bytes();
        g.b.putInt(GgufFile.MAGIC).putInt(3).putLong(0).putLong(1);
        g.key("x", 13).b.putLong(0);
        Path p = write(g.done());
        assertTrue(assertThrows(ModelFormatException.class, () -> GgufFile.read(p)).getMessage()
                .contains("GGUF metadata 'x': value type=13 is not a GGUF type"));

        Bytes h = new Bytes();
        h.b.putInt(GgufFile.MAGIC).putInt(3).putLong(1).putLong(0);
        h.str("w").b.putInt(5).putLong(1).putLong(1).putLong(1).putLong(1).putLong(1).putInt(0).putLong(0);
        Path q = write(h.done());
        assertTrue(assertThrows(ModelFormatException.class, () -> GgufFile.read(q)).getMessage()
                .contains("GGUF tensor 'w': n_dims=5 must be in [1, 4]"));

        Bytes z = new Bytes();
        z.b.putInt(GgufFile.MAGIC).putInt(3).putLong(1).putLong(0);
        z.str("w").b.putInt(2).putLong(4).putLong(0).putInt(0).putLong(0);
        z.b.put(new byte[64]);
        Path r = write(z.done());
        assertTrue(assertThrows(ModelFormatException.class, () -> GgufFile.read(r)).getMessage()
                .contains("GGUF tensor 'w': dim 1=0 must be > 0"));
    }
}
