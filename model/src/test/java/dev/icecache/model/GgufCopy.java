package dev.icecache.model;

import dev.icecache.model.gguf.GgufFile;
import dev.icecache.model.gguf.GgufTensorInfo;
import dev.icecache.model.gguf.GgufWriter;
import dev.icecache.model.tensor.FloatTensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Rewrites a GGUF file for tests: metadata copied (optionally under another architecture, whose
 * key prefix replaces {@code llama.}), every tensor re-encoded in its own type after multiplying
 * it by a per-tensor factor.
 */
public final class GgufCopy {

    private GgufCopy() {
    }

    /**
     * Copies {@code in} to {@code out}.
     *
     * @param architecture the new general.architecture, or null to keep the file's
     * @param scale factor per tensor name (1 keeps it)
     */
    public static void copy(Path in, Path out, String architecture, ToDoubleFunction<String> scale) throws IOException {
        GgufFile file = GgufFile.read(in);
        String arch = architecture != null ? architecture : file.metadata().getString("general.architecture", "llama");
        GgufWriter w = new GgufWriter();
        for (String key : file.metadata().keys()) {
            String name = key.startsWith("llama.") ? arch + key.substring(5) : key;
            Object v = file.metadata().get(key);
            if (key.equals("general.architecture")) {
                w.putString(key, arch);
            } else if (v instanceof String text) {
                w.putString(name, text);
            } else if (v instanceof Float || v instanceof Double) {
                w.putFloat32(name, ((Number) v).floatValue());
            } else if (v instanceof Number number) {
                w.putUInt32(name, number.intValue());
            } else if (v instanceof Boolean flag) {
                w.putBool(name, flag);
            } else if (v instanceof String[] strings) {
                w.putStrings(name, strings);
            } else if (v instanceof float[] floats) {
                w.putFloat32s(name, floats);
            } else if (v instanceof int[] ints) {
                w.putInt32s(name, ints);
            } else {
                throw new IllegalStateException("cannot copy metadata " + key + " of " + v.getClass());
            }
        }
        Map<String, FloatTensor> tensors = file.mapTensors();
        for (GgufTensorInfo info : file.tensors().values()) {
            FloatTensor t = tensors.get(info.name());
            float factor = (float) scale.applyAsDouble(info.name());
            w.addTensor(info.name(), info.type(), info.dims(), (offset, dst, n) -> {
                t.copyTo(offset, dst, 0, n);
                for (int i = 0; i < n; i++) {
                    dst[i] *= factor;
                }
            });
        }
        w.write(out);
    }
}
