package dev.icecache.model.backend;

import java.io.Serializable;

/**
 * How an accelerator backend sizes the page region it shares between the documents of every
 * decoder subtask on one device, and whether attention runs there at all. The one source of
 * truth for the defaults: the Flink job sets it from its options ({@code icecache.gpu.region.size},
 * {@code icecache.gpu.region.document-size}, {@code icecache.gpu.resident}), the engine-alone
 * command line from {@link #fromSystemProperties() system properties}.
 *
 * @param regionBytes bytes of the device's shared page region; 0 = {@value #DEFAULT_REGION_SHARE_PERCENT}%
 *                    of the device's memory
 * @param documentBytes the most one document may lease from it; 0 = the whole region
 * @param resident false keeps attention (and the KV pages) on the host
 * @param regionName the option or property that set {@code regionBytes}, for messages
 * @param documentName the option or property that set {@code documentBytes}, for messages
 */
public record DeviceRegionSizes(long regionBytes, long documentBytes, boolean resident, String regionName,
                                String documentName) implements Serializable {

    /** System property for {@code regionBytes} (engine-alone runs). */
    public static final String REGION_BYTES_PROPERTY = "icecache.gpu.region.bytes";
    /** System property for {@code documentBytes} (engine-alone runs). */
    public static final String DOCUMENT_BYTES_PROPERTY = "icecache.gpu.region.document.bytes";
    /** System property for {@code resident} (engine-alone runs). */
    public static final String RESIDENT_PROPERTY = "icecache.gpu.resident";
    /** Default region size as a share of the device's memory. */
    public static final int DEFAULT_REGION_SHARE_PERCENT = 40;
    /** The smallest region the default share gives. */
    static final long MIN_DEFAULT_REGION_BYTES = 1L << 20;

    private static final long serialVersionUID = 1L;

    /** A size that cannot work; the message is one line naming the option or property. */
    public static final class InvalidSizeException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        InvalidSizeException(String message) {
            super(message);
        }
    }

    /** @throws InvalidSizeException for a negative size or a document size above an explicit region size */
    public DeviceRegionSizes {
        if (regionBytes < 0) {
            throw new InvalidSizeException(regionName + "=" + regionBytes + " is invalid; allowed: bytes >= 0 (0 = "
                    + DEFAULT_REGION_SHARE_PERCENT + "% of the device's memory)");
        }
        if (documentBytes < 0) {
            throw new InvalidSizeException(documentName + "=" + documentBytes
                    + " is invalid; allowed: bytes >= 0 (0 = the whole region)");
        }
        if (regionBytes > 0 && documentBytes > regionBytes) {
            throw new InvalidSizeException(documentName + "=" + documentBytes + " is larger than " + regionName + "="
                    + regionBytes + ": a document cannot lease more than the region; lower it or raise " + regionName);
        }
    }

    /** The defaults, named by the system properties. */
    public static DeviceRegionSizes defaults() {
        return new DeviceRegionSizes(0, 0, true, REGION_BYTES_PROPERTY, DOCUMENT_BYTES_PROPERTY);
    }

    /**
     * From the system properties {@value #REGION_BYTES_PROPERTY}, {@value #DOCUMENT_BYTES_PROPERTY}
     * and {@value #RESIDENT_PROPERTY}; unset ones take the defaults.
     *
     * @throws InvalidSizeException for a value that is not a byte count or not allowed
     */
    public static DeviceRegionSizes fromSystemProperties() {
        return new DeviceRegionSizes(longProperty(REGION_BYTES_PROPERTY), longProperty(DOCUMENT_BYTES_PROPERTY),
                Boolean.parseBoolean(System.getProperty(RESIDENT_PROPERTY, "true")), REGION_BYTES_PROPERTY,
                DOCUMENT_BYTES_PROPERTY);
    }

    private static long longProperty(String name) {
        String text = System.getProperty(name);
        if (text == null || text.isBlank()) {
            return 0;
        }
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new InvalidSizeException(name + "=" + text + " is invalid; allowed: a byte count >= 0");
        }
    }

    /**
     * The region's bytes on a device of {@code deviceBytes}.
     *
     * @throws InvalidSizeException when an explicit size is larger than the device
     */
    public long regionBytesOn(long deviceBytes) {
        if (regionBytes > deviceBytes) {
            throw new InvalidSizeException(regionName + "=" + regionBytes + " is larger than the device's "
                    + deviceBytes + " bytes; lower it (0 = " + DEFAULT_REGION_SHARE_PERCENT + "% of the device)");
        }
        if (documentBytes > deviceBytes) {
            throw new InvalidSizeException(documentName + "=" + documentBytes + " is larger than the device's "
                    + deviceBytes + " bytes; lower it (0 = the whole region)");
        }
        return regionBytes > 0 ? regionBytes
                : Math.max(MIN_DEFAULT_REGION_BYTES, deviceBytes / 100 * DEFAULT_REGION_SHARE_PERCENT);
    }

    /**
     * The most one document may lease on a device of {@code deviceBytes}.
     *
     * @throws InvalidSizeException when it is larger than the device or than the region there
     */
    public long documentBytesOn(long deviceBytes) {
        long region = regionBytesOn(deviceBytes);
        if (documentBytes > region) {
            throw new InvalidSizeException(documentName + "=" + documentBytes + " is larger than the region's "
                    + region + " bytes (" + regionName + (regionBytes > 0 ? "" : " default: " + DEFAULT_REGION_SHARE_PERCENT
                    + "% of the device") + "); lower it or raise " + regionName);
        }
        return documentBytes > 0 ? documentBytes : region;
    }
}
