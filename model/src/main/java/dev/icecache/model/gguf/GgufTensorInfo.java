package dev.icecache.model.gguf;

import dev.icecache.model.tensor.GgmlType;

/**
 * One tensor's entry in a GGUF file's tensor table.
 *
 * @param name tensor name, e.g. {@code blk.0.attn_q.weight}
 * @param dims dimensions, innermost first (ggml's ne[0] is the row length)
 * @param type element type
 * @param offset byte offset from the start of the file's data section
 * @param elementCount product of dims
 * @param byteSize bytes the elements occupy
 */
public record GgufTensorInfo(String name, long[] dims, GgmlType type, long offset, long elementCount, long byteSize) {

    /** The dims as "[a, b]" for messages. */
    public String shape() {
        return java.util.Arrays.toString(dims);
    }
}
