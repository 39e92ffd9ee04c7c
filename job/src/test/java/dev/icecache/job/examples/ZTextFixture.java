package dev.icecache.job.examples;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.DeflaterOutputStream;

/**
 * Writes a SWORD zText module from the format: per testament a verse index (.bzv, 10 bytes a
 * slot: block uint32, offset in the block uint32, size uint16, little-endian), a block index
 * (.bzs, 12 bytes a block: offset and size in .bzz, uncompressed size) and the zlib-compressed
 * blocks (.bzz); plus the mods.d/NAME.conf that describes it.
 */
final class ZTextFixture {

    /** One testament: how many index slots it has and the text stored in some of them. */
    static final class Testament {
        final int slotCount;
        /** slot -> (block, text); slots not listed are empty. */
        final Map<Integer, Map.Entry<Integer, String>> entries = new TreeMap<>();

        Testament(int slotCount) {
            this.slotCount = slotCount;
        }

        Testament put(int slot, int block, String text) {
            entries.put(slot, Map.entry(block, text));
            return this;
        }
    }

    private ZTextFixture() {
    }

    /** Writes the module under {@code swordDir}; {@code confLines} go after the [NAME] line. */
    static void write(Path swordDir, String name, String confLines, Testament ot, Testament nt) throws IOException {
        Path data = swordDir.resolve("modules/texts/ztext/" + name.toLowerCase());
        Files.createDirectories(data);
        Files.createDirectories(swordDir.resolve("mods.d"));
        Files.writeString(swordDir.resolve("mods.d/" + name.toLowerCase() + ".conf"),
                "[" + name + "]\nDataPath=./modules/texts/ztext/" + name.toLowerCase() + "/\n" + confLines);
        writeTestament(data, "ot", ot);
        writeTestament(data, "nt", nt);
    }

    private static void writeTestament(Path data, String prefix, Testament t) throws IOException {
        TreeMap<Integer, ByteArrayOutputStream> blocks = new TreeMap<>();
        ByteBuffer bzv = ByteBuffer.allocate(t.slotCount * 10).order(ByteOrder.LITTLE_ENDIAN);
        for (var e : t.entries.entrySet()) {
            int block = e.getValue().getKey();
            byte[] text = e.getValue().getValue().getBytes(StandardCharsets.UTF_8);
            ByteArrayOutputStream content = blocks.computeIfAbsent(block, b -> new ByteArrayOutputStream());
            bzv.position(e.getKey() * 10);
            bzv.putInt(block).putInt(content.size()).putShort((short) text.length);
            content.write(text);
        }
        ByteArrayOutputStream bzz = new ByteArrayOutputStream();
        ByteBuffer bzs = ByteBuffer.allocate(blocks.size() * 12).order(ByteOrder.LITTLE_ENDIAN);
        for (var block : blocks.entrySet()) {
            if (block.getKey() != bzs.position() / 12) {
                throw new IllegalArgumentException("blocks must be numbered 0, 1, 2, ... without gaps");
            }
            byte[] compressed = zlib(block.getValue().toByteArray());
            bzs.putInt(bzz.size()).putInt(compressed.length).putInt(block.getValue().size());
            bzz.write(compressed);
        }
        Files.write(data.resolve(prefix + ".bzv"), bzv.array());
        Files.write(data.resolve(prefix + ".bzs"), bzs.array());
        Files.write(data.resolve(prefix + ".bzz"), bzz.toByteArray());
    }

    private static byte[] zlib(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (DeflaterOutputStream z = new DeflaterOutputStream(out)) {
            z.write(data);
        }
        return out.toByteArray();
    }
}
