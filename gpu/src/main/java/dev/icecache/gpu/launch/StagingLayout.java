package dev.icecache.gpu.launch;

import java.nio.ByteBuffer;

import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;

/**
 * The pinned host staging buffer of a page move of n pages (icecache.md "Moving pages"): a table
 * of destination slots, then the fetched blocks back to back in TransferPlan order, so that one
 * host-to-device copy of {@link #moveBytes}(n) bytes carries both and the scatter kernel reads
 * both from fixed device addresses.
 *
 * <pre>
 *   bytes: [ destSlot[0..capacityPages) int32, padded to 256 | block 0 | block 1 | ... | block n-1 | unused ]
 *          ^0                                                 ^blocksByteOffset
 *   block i holds the floats of TransferPlan.staging()[i*floatsPerPage ..+floatsPerPage), in the
 *   pool's format (BF16: narrowed to 2 bytes a value)
 * </pre>
 *
 * @param layout page layout of every block
 * @param capacityPages most pages one move may carry (at most 65535, the scatter grid's y limit)
 * @param format the pool's format (the bytes of a block value)
 */
public record StagingLayout(PageLayout layout, int capacityPages, PageFormat format) {

    /** Alignment of the first block (cuMemAlloc's alignment). */
    static final int ALIGN = 256;

    /** Float32 blocks. */
    public StagingLayout(PageLayout layout, int capacityPages) {
        this(layout, capacityPages, PageFormat.F32);
    }

    public StagingLayout {
        if (layout == null || format == null || capacityPages < 1 || capacityPages > LaunchDims.MAX_GRID_YZ) {
            throw new IllegalArgumentException("staging of capacityPages=" + capacityPages
                    + " needs a layout and 1.." + LaunchDims.MAX_GRID_YZ + " pages");
        }
        if (blocksByteOffset(capacityPages) + (long) capacityPages * layout.floatsPerPage() * format.bytesPerFloat()
                > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("staging of capacityPages=" + capacityPages + " x "
                    + layout.floatsPerPage() + " floats exceeds 2 GiB; move fewer pages at once");
        }
    }

    private static long blocksByteOffset(int capacityPages) {
        long table = (long) capacityPages * Integer.BYTES;
        return (table + ALIGN - 1) / ALIGN * ALIGN;
    }

    /** Byte offset of the destination slot table. */
    public long slotsByteOffset() {
        return 0;
    }

    /** Byte offset of block 0. */
    public long blocksByteOffset() {
        return blocksByteOffset(capacityPages);
    }

    /** Byte offset of block i. */
    public long blockByteOffset(int i) {
        checkPage(i);
        return blocksByteOffset() + (long) i * layout.floatsPerPage() * format.bytesPerFloat();
    }

    /** Float index of block i counted from block 0 (TransferPlan.stagingOffset(i) for the same fetch order). */
    public long blockFloatIndex(int i) {
        checkPage(i);
        return (long) i * layout.floatsPerPage();
    }

    /** Bytes that one move of {@code pages} pages copies: the slot table and its blocks. */
    public long moveBytes(int pages) {
        if (pages < 0 || pages > capacityPages) {
            throw new IllegalArgumentException("pages=" + pages + " must be in [0, capacityPages=" + capacityPages + "]");
        }
        return blocksByteOffset() + (long) pages * layout.floatsPerPage() * format.bytesPerFloat();
    }

    /** Bytes of the whole staging buffer. */
    public long totalBytes() {
        return moveBytes(capacityPages);
    }

    /**
     * Writes a move of {@code m} pages into {@code staging} (little-endian, from byte 0): slot table
     * entries {@code slots[first ..+m)} and blocks {@code blocks[first * floatsPerPage ..]}, narrowed
     * to the format (exact for pages a BF16 store widened).
     */
    public void fill(ByteBuffer staging, int[] slots, int first, float[] blocks, int m) {
        if (m < 0 || m > capacityPages) {
            throw new IllegalArgumentException("m=" + m + " pages must be in [0, capacityPages=" + capacityPages + "]");
        }
        int fpp = layout.floatsPerPage();
        for (int i = 0; i < m; i++) {
            staging.putInt((int) slotsByteOffset() + Integer.BYTES * i, slots[first + i]);
        }
        int at = (int) blocksByteOffset();
        int from = first * fpp;
        if (format == PageFormat.BF16) {
            for (int i = 0; i < m * fpp; i++) {
                staging.putShort(at + 2 * i, PageFormat.narrow(blocks[from + i]));
            }
        } else {
            for (int i = 0; i < m * fpp; i++) {
                staging.putFloat(at + 4 * i, blocks[from + i]);
            }
        }
    }

    private void checkPage(int i) {
        if (i < 0 || i >= capacityPages) {
            throw new IndexOutOfBoundsException("staging block=" + i + " outside capacityPages=" + capacityPages);
        }
    }
}
