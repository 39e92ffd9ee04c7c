package dev.icecache.gpu.cuda;

/**
 * Every kernel entry point, with the PTX module that holds it: module {@code m} is the resource
 * {@code dev/icecache/gpu/kernels/m.ptx}, compiled from {@code src/main/cuda/m.cu}.
 */
public enum Kernel {
    MATMUL_F32("matmul", "matmul_f32"),
    MATMUL_F16("matmul", "matmul_f16"),
    MATMUL_Q8_0("matmul", "matmul_q8_0"),
    MATMUL_Q4_0("matmul", "matmul_q4_0"),
    RMSNORM("ops", "rmsnorm"),
    ROPE("ops", "rope"),
    SWIGLU("ops", "swiglu"),
    ADD_INTO("ops", "add_into"),
    SOFTMAX("ops", "softmax"),
    PAGED_ATTENTION("attention", "paged_attention"),
    PAGED_ATTENTION_PREFILL("attention", "paged_attention_prefill"),
    PAGED_ATTENTION_PREFILL_BF16("attention", "paged_attention_prefill_bf16"),
    SCATTER_PAGES("pages", "scatter_pages"),
    SCATTER_PAGES_BF16("pages", "scatter_pages_bf16"),
    WRITE_ROWS("pages", "write_rows"),
    WRITE_ROWS_BF16("pages", "write_rows_bf16"),
    COPY_ROWS("pages", "copy_rows"),
    COPY_ROWS_BF16("pages", "copy_rows_bf16");

    /** Folder of the PTX resources on the class path. */
    public static final String RESOURCE_DIR = "dev/icecache/gpu/kernels/";

    private final String module;
    private final String entry;

    Kernel(String module, String entry) {
        this.module = module;
        this.entry = entry;
    }

    /** Base name of the .cu source and the .ptx resource. */
    public String module() {
        return module;
    }

    /** The {@code extern "C"} entry name. */
    public String entry() {
        return entry;
    }

    /** Class-path resource of the module's PTX. */
    public String resource() {
        return RESOURCE_DIR + module + ".ptx";
    }
}
