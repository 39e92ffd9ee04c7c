package dev.icecache.gpu.launch;

import dev.icecache.kvcache.page.PageLayout;

/**
 * The pinned host staging buffer of one page move (icecache.md "Moving pages"): the fetched
 * blocks back to back in TransferPlan order, then their destination slots, so that one
 * host-to-device copy carries both and the scatter kernel reads both from device memory.
 *
 * <pre>
 *   bytes: [ block 0 | block 1 | ... | block n-1 | destSlot[0..n) as int32 ]
 *          ^0        ^floatsPerPage*4              ^slotsByteOffset
 * </pre>
 *
 * @param layout page layout of every block
 * @param capacityPages most pages one move may carry
 */
public record StagingLayout(PageLayout layout, int capacityPages) {

    public StagingLayout {
        if (layout == null || capacityPages < 1) {
            throw new IllegalArgumentException("staging of capacityPages=" + capacityPages + " needs a layout and >= 1 page");
        }
        if (totalBytes(layout, capacityPages) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("staging of capacityPages=" + capacityPages + " x "
                    + layout.floatsPerPage() + " floats exceeds 2 GiB; move fewer pages at once");
        }
    }

    private static long totalBytes(PageLayout layout, int pages) {
        return (long) pages * layout.floatsPerPage() * Float.BYTES + (long) pages * Integer.BYTES;
    }

    /** Byte offset of block i. */
    public long blockByteOffset(int i) {
        checkPage(i);
        return (long) i * layout.floatsPerPage() * Float.BYTES;
    }

    /** Float index of block i (equal to TransferPlan.stagingOffset(i) for the same fetch order). */
    public long blockFloatIndex(int i) {
        checkPage(i);
        return (long) i * layout.floatsPerPage();
    }

    /** Byte offset of the destination slot table. */
    public long slotsByteOffset() {
        return (long) capacityPages * layout.floatsPerPage() * Float.BYTES;
    }

    /** Bytes of the whole staging buffer. */
    public long totalBytes() {
        return totalBytes(layout, capacityPages);
    }

    /** Bytes that one move of {@code pages} pages copies (blocks only; the slot table is separate). */
    public long blockBytes(int pages) {
        if (pages < 0 || pages > capacityPages) {
            throw new IllegalArgumentException("pages=" + pages + " must be in [0, capacityPages=" + capacityPages + "]");
        }
        return (long) pages * layout.floatsPerPage() * Float.BYTES;
    }

    private void checkPage(int i) {
        if (i < 0 || i >= capacityPages) {
            throw new IndexOutOfBoundsException("staging block=" + i + " outside capacityPages=" + capacityPages);
        }
    }
}
