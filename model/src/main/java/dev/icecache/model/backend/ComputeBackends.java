package dev.icecache.model.backend;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

import dev.icecache.model.ComputeBackend;

/**
 * Picks the compute backend: the first {@link ComputeBackendProvider} on the class path that
 * opens the device, else the CPU with the reasons every provider gave. Providers are looked up
 * with the class loader of this class, which in a Flink job is the job jar's (where the
 * {@code gpu} module travels as a run-time dependency).
 */
public final class ComputeBackends {

    /** Load failures after which the lookup stops (guards against an iterator stuck on one error). */
    private static final int MAX_LOAD_FAILURES = 16;

    private ComputeBackends() {
    }

    /**
     * The backend for device {@code deviceIndex}: never declined; the CPU when no provider opens
     * the device (including when a provider fails to load, e.g. for a missing native library).
     * The device region is sized by the {@linkplain DeviceRegionSizes#fromSystemProperties() system
     * properties} (engine-alone runs).
     */
    public static BackendChoice select(int deviceIndex) {
        return select(deviceIndex, DeviceRegionSizes.fromSystemProperties());
    }

    /**
     * The backend for device {@code deviceIndex} with its page region sized by {@code sizes}; the
     * CPU when no provider opens the device.
     *
     * @throws DeviceRegionSizes.InvalidSizeException when the sizes do not fit the device (a
     *         configuration mistake, not a reason to run on the CPU)
     */
    public static BackendChoice select(int deviceIndex, DeviceRegionSizes sizes) {
        List<String> declined = new ArrayList<>();
        for (ComputeBackendProvider provider : providers(declined)) {
            BackendChoice choice;
            try {
                choice = provider.open(deviceIndex, sizes);
            } catch (DeviceRegionSizes.InvalidSizeException e) {
                throw e;
            } catch (RuntimeException | LinkageError e) {
                declined.add(provider.name() + ": failed to open device " + deviceIndex + ": " + e);
                continue;
            }
            if (!choice.isDeclined()) {
                return choice;
            }
            declined.add(provider.name() + ": " + choice.reason());
        }
        String why = declined.isEmpty() ? "no accelerator backend on the class path" : String.join("; ", declined);
        return new BackendChoice(ComputeBackend.cpu(), why);
    }

    /** Names of the providers on the class path that load, in service order. */
    public static List<String> providerNames() {
        List<String> names = new ArrayList<>();
        for (ComputeBackendProvider provider : providers(new ArrayList<>())) {
            names.add(provider.name());
        }
        return names;
    }

    /** Every provider that loads; each one that does not adds a line to {@code problems}. */
    private static List<ComputeBackendProvider> providers(List<String> problems) {
        List<ComputeBackendProvider> found = new ArrayList<>();
        Iterator<ComputeBackendProvider> it =
                ServiceLoader.load(ComputeBackendProvider.class, ComputeBackends.class.getClassLoader()).iterator();
        int failures = 0;
        while (failures < MAX_LOAD_FAILURES) {
            try {
                if (!it.hasNext()) {
                    break;
                }
                found.add(it.next());
            } catch (ServiceConfigurationError | LinkageError e) {
                failures++;
                problems.add("a backend provider failed to load: " + e.getMessage());
            }
        }
        return found;
    }
}
