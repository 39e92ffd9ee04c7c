package dev.icecache.gpu.launch;

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
 *   block i holds the floats of TransferPlan.staging()[i*floatsPerPage ..+floatsPerPage)
 * </pre>
 *
 * @param layout page layout of every block
 * @param capacityPages most pages one move may carry (at most 65535, the scatter grid's y limit)
 */
public record StagingLayout(PageLayout layout, int capacityPages) {

    /** Alignment of the first block (cuMemAlloc's alignment). */
    static final int ALIGN = 256;

    public StagingLayout {
        if (layout == null || capacityPages < 1 || capacityPages > LaunchDims.MAX_GRID_YZ) {
            throw new IllegalArgumentException("staging of capacityPages=" + capacityPages
                    + " needs a layout and 1.." + LaunchDims.MAX_GRID_YZ + " pages");
        }
        if (blocksByteOffset(capacityPages) + (long) capacityPages * layout.floatsPerPage() * Float.BYTES
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
        return blocksByteOffset() + (long) i * layout.floatsPerPage() * Float.BYTES;
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
        return blocksByteOffset() + (long) pages * layout.floatsPerPage() * Float.BYTES;
    }

    /** Bytes of the whole staging buffer. */
    public long totalBytes() {
        return moveBytes(capacityPages);
    }

    private void checkPage(int i) {
        if (i < 0 || i >= capacityPages) {
            throw new IndexOutOfBoundsException("staging block=" + i + " outside capacityPages=" + capacityPages);
        }
    }
}
