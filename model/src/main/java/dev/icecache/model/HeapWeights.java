package dev.icecache.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

import dev.icecache.model.compute.MatMul;
import dev.icecache.model.tensor.FloatTensor;
import dev.icecache.model.tensor.HeapRows;
import dev.icecache.model.tensor.Q4_KTensor;
import dev.icecache.model.tensor.Q5_KTensor;
import dev.icecache.model.tensor.Q6_KTensor;
import dev.icecache.model.tensor.Q8_0Tensor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether a model's Q8_0, Q4_K, Q5_K and Q6_K tensors get decode rows on the heap ({@link HeapRows}) beside
 * their mapping. Mapped only, the 256-bit int8 decode kernel (AVX2) copies each row out of the mapped
 * buffer before its products, the copy and the products one after the other; the heap rows are read
 * in place, in an order that forms each pair sum with one int16 multiply-add (AVX2, one thread, a
 * 2,048 x 8,192 matrix: 2.9-3.0 ms per product mapped, 1.6-1.7 ms from the heap rows). The 512-bit
 * Q8_0 kernel (AVX-512) reads its own order of the rows (pairs of blocks) instead of the mapping
 * through the buffer's checks: 2.3x the decode rate on the 1B shape at the median. They cost the
 * JVM heap 36 bytes per 32 weights (1.3 GiB for a 1B model) for as long as the model is loaded, as
 * llama.cpp's {@code --no-mmap} costs memory; the Q8_0 prefill and everything else keep reading the mapping
 * (the K-quant rows also serve the prefill's row decode, {@code copyTo}).
 * Q4_K rows ({@link Q4_KTensor#withHeapRows}) take 160 bytes per 256 weights, with each sub-block's
 * quants packed for one load and its scales decoded once; Q5_K rows 288 bytes per 256 and Q6_K rows
 * 276, each quant's bits joined into a byte.
 *
 * <p>System property {@value #PROPERTY}: {@code auto} (default) adds them where the kernel reads them,
 * tensor by tensor while they take at most a quarter of the maximum heap (so a smaller heap still
 * gets the rows that save the most); {@code true} adds them where the kernel reads them, whatever
 * their size (an error when the heap cannot hold them); {@code false} keeps every tensor mapped only.
 */
final class HeapWeights {

    static final String PROPERTY = "icecache.weights.heap";

    private static final Logger LOG = LoggerFactory.getLogger(HeapWeights.class);

    /** The property's values. */
    enum Mode { AUTO, TRUE, FALSE }

    private HeapWeights() {
    }

    /** The mode the system property names. */
    static Mode mode() {
        return parse(System.getProperty(PROPERTY, "auto"));
    }

    /** @throws IllegalArgumentException naming the property and its values when {@code value} is none of them */
    static Mode parse(String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "auto" -> Mode.AUTO;
            case "true" -> Mode.TRUE;
            case "false" -> Mode.FALSE;
            default -> throw new IllegalArgumentException(PROPERTY + "=" + value
                    + " is not a valid value: use auto (the default), true or false");
        };
    }

    /**
     * The tensors of {@code mapped} with decode rows on the heap for those whose int8 decode dot
     * reads them ({@code kernelReadsHeap}) where {@code mode} says so; the others as they are.
     * {@code freeHeap} is what the JVM could still allocate and {@code maxHeap} its maximum heap (bytes).
     * AUTO adds rows tensor by tensor while they fit in a quarter of {@code maxHeap}: Q6_K first, then
     * Q4_K, Q5_K and Q8_0, which is the order of the time a heap byte saves (one thread, AVX2, ns per
     * weight mapped against heap rows: Q6_K 0.51 against 0.12, Q4_K 0.27 against 0.11, Q5_K 0.34
     * against 0.10, Q8_0 0.18 against 0.10), and in the model's order within a type.
     *
     * @throws IllegalStateException when {@code mode} is TRUE and the copies do not fit in {@code freeHeap}
     */
    static Map<String, FloatTensor> place(Map<String, FloatTensor> mapped, Mode mode, Predicate<HeapRows> kernelReadsHeap,
            long maxHeap, long freeHeap) {
        List<HeapRows> readable = new ArrayList<>();
        long bytes = 0;
        for (FloatTensor t : mapped.values()) {
            if (t instanceof HeapRows h && !h.hasHeapRows() && kernelReadsHeap.test(h)) {
                readable.add(h);
                bytes += h.heapRowBytes();
            }
        }
        if (mode == Mode.FALSE || readable.isEmpty()) {
            return mapped;
        }
        String all = mib(bytes) + " MiB";
        Set<HeapRows> chosen = Collections.newSetFromMap(new IdentityHashMap<>());
        long taken = 0;
        if (mode == Mode.TRUE) {
            if (bytes > freeHeap) {
                throw new IllegalStateException(PROPERTY + "=true: the decode rows of the model's quantized weights need " + all
                        + " of heap but " + mib(freeHeap) + " MiB are free: raise the heap (-Xmx, or ICECACHE_HEAP for bin/icecache)"
                        + " or set it to auto");
            }
            chosen.addAll(readable);
            taken = bytes;
        } else {
            List<HeapRows> byGain = new ArrayList<>(readable);
            byGain.sort(Comparator.comparingInt(HeapWeights::preference)); // stable: the model's order within a type
            for (HeapRows h : byGain) {
                if (taken + h.heapRowBytes() <= maxHeap / 4) {
                    chosen.add(h);
                    taken += h.heapRowBytes();
                }
            }
        }
        if (chosen.isEmpty()) {
            LOG.info("weights: {} quantized tensors stay mapped only: no tensor's decode rows fit in a quarter of the {} MiB heap"
                    + " (-D{}=true adds all of them, {}, and decode reads them faster)", readable.size(), mib(maxHeap), PROPERTY, all);
            return mapped;
        }
        Map<String, FloatTensor> placed = new LinkedHashMap<>();
        for (Map.Entry<String, FloatTensor> e : mapped.entrySet()) {
            FloatTensor t = e.getValue();
            placed.put(e.getKey(), t instanceof HeapRows h && chosen.contains(h) ? h.withHeapRows() : t);
        }
        if (chosen.size() == readable.size()) {
            LOG.info("weights: {} quantized tensors with decode rows on the heap ({} MiB, {}={})", chosen.size(), mib(taken), PROPERTY,
                    mode.name().toLowerCase(Locale.ROOT));
        } else {
            LOG.info("weights: {} of {} quantized tensors with decode rows on the heap ({} MiB of {}: a quarter of the {} MiB heap;"
                    + " a larger heap, or -D{}=true, adds the rest)", chosen.size(), readable.size(), mib(taken), all, mib(maxHeap), PROPERTY);
        }
        return placed;
    }

    /** AUTO's order of types: the heap time a byte of rows saves, most first. */
    private static int preference(HeapRows t) {
        if (t instanceof Q6_KTensor) {
            return 0;
        }
        if (t instanceof Q4_KTensor) {
            return 1;
        }
        return t instanceof Q5_KTensor ? 2 : 3;
    }

    /** {@link #place} with the system property's mode and this JVM's heap. */
    static Map<String, FloatTensor> place(Map<String, FloatTensor> mapped) {
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        return place(mapped, mode(), HeapWeights::kernelReadsHeap, rt.maxMemory(), free);
    }

    /** Whether this JVM's int8 decode dot of {@code t} reads its heap rows (the kernel and the system properties). */
    static boolean kernelReadsHeap(HeapRows t) {
        if (t instanceof Q8_0Tensor) {
            return Q8_0Tensor.readsHeapRows() && MatMul.int8ActivationsByDefault();
        }
        return Q4_KTensor.readsHeapRows() && MatMul.kquantInt8ByDefault(); // Q4_K, Q5_K and Q6_K
    }

    private static long mib(long bytes) {
        return bytes >> 20;
    }
}
