package dev.icecache.job.examples;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Writes an R lazy-load database pair, {@code NAME.rdb} and {@code NAME.rdx}, as R's
 * makeLazyLoadDB lays it out: each value in the .rdb is a 4-byte big-endian uncompressed length
 * and its compressed bytes; the .rdx is a gzip file holding the serialized index list
 * {@code list(variables = list(NAME = c(offset, length), ...), references = list(), compressed = ...)}.
 */
final class LazyLoadFixture {

    /** How values are compressed, and the index's {@code compressed} value that says so. */
    enum Compression {
        /** compressed = TRUE: a zlib stream straight after the length. */
        ZLIB,
        /** compressed = 3 (xz) with the type byte '0': R stored the bytes as they are. */
        XZ_STORED
    }

    private LazyLoadFixture() {
    }

    /** Writes {@code dir/name.rdb} and {@code dir/name.rdx}; returns the path without extension. */
    static Path write(Path dir, String name, Map<String, byte[]> serializedValues, Compression compression)
            throws IOException {
        ByteArrayOutputStream rdb = new ByteArrayOutputStream();
        List<int[]> keys = new ArrayList<>();
        for (byte[] value : serializedValues.values()) {
            byte[] blob = compress(value, compression);
            keys.add(new int[] {rdb.size(), blob.length});
            rdb.write(blob);
        }
        Files.write(dir.resolve(name + ".rdb"), rdb.toByteArray());
        byte[] index = index(List.copyOf(serializedValues.keySet()), keys, compression);
        try (OutputStream gz = new GZIPOutputStream(Files.newOutputStream(dir.resolve(name + ".rdx")))) {
            gz.write(index);
        }
        return dir.resolve(name);
    }

    private static byte[] compress(byte[] value, Compression compression) throws IOException {
        ByteArrayOutputStream blob = new ByteArrayOutputStream();
        new DataOutputStream(blob).writeInt(value.length);
        if (compression == Compression.ZLIB) {
            try (DeflaterOutputStream z = new DeflaterOutputStream(blob)) {
                z.write(value);
            }
        } else {
            blob.write('0');
            blob.write(value);
        }
        return blob.toByteArray();
    }

    private static byte[] index(List<String> names, List<int[]> keys, Compression compression) {
        RSerializationWriter w = new RSerializationWriter(3);
        w.flags(RSerializationWriter.VECSXP, RSerializationWriter.HAS_ATTR).integer(3);
        // variables: a named list of integer pairs (offset, length)
        w.flags(RSerializationWriter.VECSXP, RSerializationWriter.HAS_ATTR).integer(names.size());
        for (int[] key : keys) {
            w.flags(RSerializationWriter.INTSXP, 0).integer(2).integer(key[0]).integer(key[1]);
        }
        w.namesAttribute(names.toArray(String[]::new));
        // references: an empty named list
        w.flags(RSerializationWriter.VECSXP, RSerializationWriter.HAS_ATTR).integer(0);
        w.namesAttribute();
        // compressed: TRUE for zlib (a logical), 3 for xz (an integer)
        if (compression == Compression.ZLIB) {
            w.flags(RSerializationWriter.LGLSXP, 0).integer(1).integer(1);
        } else {
            w.flags(RSerializationWriter.INTSXP, 0).integer(1).integer(3);
        }
        w.namesAttribute("variables", "references", "compressed");
        return w.toByteArray();
    }
}
