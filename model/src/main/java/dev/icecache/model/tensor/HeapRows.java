package dev.icecache.model.tensor;

/**
 * A quantized tensor that can carry decode rows on the heap beside its mapping: the same
 * weights in a layout its int8 decode dot reads faster, with the same bits
 * ({@link Q8_0Tensor#withHeapRows}, {@link Q4_KTensor#withHeapRows},
 * {@link Q5_KTensor#withHeapRows}, {@link Q6_KTensor#withHeapRows}).
 */
public sealed interface HeapRows permits Q8_0Tensor, Q4_KTensor, Q5_KTensor, Q6_KTensor {

    /** Heap bytes {@link #withHeapRows} takes. */
    long heapRowBytes();

    /** Whether this tensor carries the decode rows of {@link #withHeapRows}. */
    boolean hasHeapRows();

    /** This tensor with its decode rows on the heap as well (itself when it has them). */
    FloatTensor withHeapRows();
}
