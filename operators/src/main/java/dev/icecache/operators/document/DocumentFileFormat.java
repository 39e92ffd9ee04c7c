package dev.icecache.operators.document;

import java.io.IOException;
import java.io.InputStreamReader;

import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.reader.BulkFormat;
import org.apache.flink.connector.file.src.util.CheckpointedPosition;
import org.apache.flink.connector.file.src.util.SingletonResultIterator;
import org.apache.flink.core.fs.FSDataInputStream;

/**
 * Reads each file as one document (UTF-8; malformed bytes become U+FFFD) and emits it as
 * {@link DocumentChunk}s cut by {@link TextChunker}. The file is streamed: only about two
 * chunks are in memory at a time. The document id is the file's name.
 *
 * <p>Files are not split across readers (one document = one reader, so chunks stay in order).
 * The checkpointed position is the count of chunks already emitted; a restored reader
 * re-reads the file and skips that many, which is exact because chunking is deterministic.
 */
public final class DocumentFileFormat implements BulkFormat<DocumentChunk, FileSourceSplit> {

    private static final long serialVersionUID = 1L;

    private final int chunkChars;

    /** @param chunkChars the most characters per chunk (&gt;= {@link TextChunker#MIN_CHUNK_CHARS}) */
    public DocumentFileFormat(int chunkChars) {
        if (chunkChars < TextChunker.MIN_CHUNK_CHARS) {
            throw new IllegalArgumentException("chunkChars=" + chunkChars + " is below "
                    + TextChunker.MIN_CHUNK_CHARS + "; use a larger chunk size");
        }
        this.chunkChars = chunkChars;
    }

    @Override
    public Reader<DocumentChunk> createReader(Configuration config, FileSourceSplit split) throws IOException {
        return new ChunkReader(split, chunkChars, 0);
    }

    @Override
    public Reader<DocumentChunk> restoreReader(Configuration config, FileSourceSplit split) throws IOException {
        long skip = split.getReaderPosition().map(CheckpointedPosition::getRecordsAfterOffset).orElse(0L);
        return new ChunkReader(split, chunkChars, skip);
    }

    @Override
    public boolean isSplittable() {
        return false;
    }

    @Override
    public TypeInformation<DocumentChunk> getProducedType() {
        return TypeInformation.of(DocumentChunk.class);
    }

    /** One open file: one batch per chunk. Owns the file stream. */
    private static final class ChunkReader implements BulkFormat.Reader<DocumentChunk> {

        private final FSDataInputStream stream;
        private final TextChunker chunker;
        private long emitted;

        ChunkReader(FileSourceSplit split, int chunkChars, long skip) throws IOException {
            this.stream = split.path().getFileSystem().open(split.path());
            java.io.Reader text = new InputStreamReader(stream, StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE));
            this.chunker = new TextChunker(text, split.path().getName(), chunkChars);
            for (long i = 0; i < skip; i++) {
                if (chunker.next() == null) {
                    throw new IOException("restoring " + split.path() + ": checkpoint says " + skip
                            + " chunks were read but the file now has " + i + "; the input changed since the checkpoint");
                }
            }
            this.emitted = skip;
        }

        @Override
        public RecordIterator<DocumentChunk> readBatch() throws IOException {
            DocumentChunk chunk = chunker.next();
            if (chunk == null) {
                return null;
            }
            emitted++;
            SingletonResultIterator<DocumentChunk> batch = new SingletonResultIterator<>();
            batch.set(chunk, CheckpointedPosition.NO_OFFSET, emitted);
            return batch;
        }

        @Override
        public void close() throws IOException {
            stream.close();
        }
    }
}
