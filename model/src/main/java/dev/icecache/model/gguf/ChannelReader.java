package dev.icecache.model.gguf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;

import dev.icecache.model.ModelFormatException;

/**
 * Sequential little-endian reads from the start of a file, buffered, that never read or
 * allocate past the end of the file: every read checks the bytes it needs against the file
 * size first and reports a truncated file naming what was being read.
 */
final class ChannelReader {

    private static final int BUFFER_BYTES = 1 << 16;

    private final FileChannel channel;
    private final String file;
    private final long fileSize;
    private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    private long bufferStart; // file position of buffer[0]

    ChannelReader(FileChannel channel, String file) throws IOException {
        this.channel = channel;
        this.file = file;
        this.fileSize = channel.size();
        buffer.limit(0);
    }

    long fileSize() {
        return fileSize;
    }

    /** File position of the next byte to read. */
    long position() {
        return bufferStart + buffer.position();
    }

    /** Bytes left in the file after the current position. */
    long remaining() {
        return fileSize - position();
    }

    /** Fails unless {@code bytes} more bytes exist, naming {@code what} was being read. */
    void require(long bytes, String what) throws ModelFormatException {
        if (bytes < 0 || bytes > remaining()) {
            throw new ModelFormatException(file + ": " + what + " at offset=" + position() + " needs " + bytes
                    + " bytes but the file size=" + fileSize + "; file truncated or corrupt");
        }
    }

    int u8(String what) throws IOException {
        fill(1, what);
        return buffer.get() & 0xff;
    }

    short i16(String what) throws IOException {
        fill(2, what);
        return buffer.getShort();
    }

    int i32(String what) throws IOException {
        fill(4, what);
        return buffer.getInt();
    }

    long i64(String what) throws IOException {
        fill(8, what);
        return buffer.getLong();
    }

    float f32(String what) throws IOException {
        fill(4, what);
        return buffer.getFloat();
    }

    double f64(String what) throws IOException {
        fill(8, what);
        return buffer.getDouble();
    }

    /** A GGUF string: uint64 byte length, then UTF-8 bytes (length checked against the file first). */
    String string(String what) throws IOException {
        long len = i64(what + " length");
        require(len, what + " (length=" + len + ")");
        if (len > Integer.MAX_VALUE - 8) {
            throw new ModelFormatException(file + ": " + what + " length=" + len + " is too large; file corrupt");
        }
        byte[] bytes = new byte[(int) len];
        bytes(bytes, 0, bytes.length, what);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    void bytes(byte[] dst, int off, int len, String what) throws IOException {
        require(len, what);
        while (len > 0) {
            if (!buffer.hasRemaining()) {
                fill(1, what);
            }
            int n = Math.min(len, buffer.remaining());
            buffer.get(dst, off, n);
            off += n;
            len -= n;
        }
    }

    /** Skips to an absolute file position at or after the current one. */
    void seek(long position, String what) throws IOException {
        require(position - position(), what);
        if (position <= bufferStart + buffer.limit()) {
            buffer.position((int) (position - bufferStart));
        } else {
            bufferStart = position;
            buffer.clear().limit(0);
        }
    }

    private void fill(int bytes, String what) throws IOException {
        if (buffer.remaining() >= bytes) {
            return;
        }
        require(bytes, what);
        long pos = position();
        buffer.compact(); // the unread bytes move to buffer[0], which now stands for file position pos
        bufferStart = pos;
        while (buffer.position() < bytes) {
            int n = channel.read(buffer, bufferStart + buffer.position());
            if (n < 0) {
                throw new ModelFormatException(file + ": unexpected end of file reading " + what + " at offset=" + pos);
            }
        }
        buffer.flip();
    }
}
