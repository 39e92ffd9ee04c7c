package dev.icecache.model.backend;

import dev.icecache.model.ComputeBackend;
import dev.icecache.model.ForwardPass;
import dev.icecache.model.LlamaModel;

/**
 * Providers registered for the model module's tests only (src/test/resources/META-INF/services),
 * in this order: one that always declines, a class that does not exist, one that throws on
 * device 5, one that opens device 7 only (a device of {@link #SEVENTH_DEVICE_BYTES}, whose region
 * sizes it checks).
 */
final class TestProviders {

    /** Memory of test device 7. */
    static final long SEVENTH_DEVICE_BYTES = 1L << 30;

    private TestProviders() {
    }

    /** Declines every device. */
    public static final class Declining implements ComputeBackendProvider {
        @Override
        public String name() {
            return "declining";
        }

        @Override
        public BackendChoice open(int deviceIndex) {
            return BackendChoice.declined("no test device " + deviceIndex);
        }
    }

    /** Throws on device 5 (a provider bug), declines others. */
    public static final class Throwing implements ComputeBackendProvider {
        @Override
        public String name() {
            return "throwing";
        }

        @Override
        public BackendChoice open(int deviceIndex) {
            if (deviceIndex == 5) {
                throw new IllegalStateException("driver exploded on device 5");
            }
            return BackendChoice.declined("not device 5");
        }
    }

    /** Opens device 7 as a backend whose passes are the CPU's. */
    public static final class Seventh implements ComputeBackendProvider {
        @Override
        public String name() {
            return "seventh";
        }

        @Override
        public BackendChoice open(int deviceIndex) {
            if (deviceIndex != 7) {
                return BackendChoice.declined("only device 7");
            }
            return new BackendChoice(new DeviceSeven(), "device 7 is the test device");
        }

        @Override
        public BackendChoice open(int deviceIndex, DeviceRegionSizes sizes) {
            if (deviceIndex == 7) {
                sizes.documentBytesOn(SEVENTH_DEVICE_BYTES);
            }
            return open(deviceIndex);
        }
    }

    /** The backend of {@link Seventh}. */
    static final class DeviceSeven implements ComputeBackend {
        @Override
        public String description() {
            return "test device 7";
        }

        @Override
        public ForwardPass newForwardPass(LlamaModel model, int maxBatch) {
            return ComputeBackend.cpu().newForwardPass(model, maxBatch);
        }

        @Override
        public void close() {
            // nothing held
        }
    }
}
