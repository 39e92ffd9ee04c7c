package dev.icecache.model.gguf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import dev.icecache.model.ModelFormatException;

/**
 * The key/value metadata of a GGUF file. Scalars are stored as their Java box (uint8/int8 →
 * Byte, uint16/int16 → Short, uint32/int32 → Integer, uint64/int64 → Long, float32 → Float,
 * float64 → Double, bool → Boolean, string → String); arrays as primitive arrays of the same
 * element kinds ({@code String[]} for strings, {@code boolean[]} for bools). Unsigned values keep
 * their bits; the typed getters check ranges.
 */
public final class GgufMetadata {

    private final String file;
    private final Map<String, Object> values;

    GgufMetadata(String file, LinkedHashMap<String, Object> values) {
        this.file = file;
        this.values = Collections.unmodifiableMap(values);
    }

    /** All keys in file order. */
    public Set<String> keys() {
        return values.keySet();
    }

    /** The raw value, or null when absent. */
    public Object get(String key) {
        return values.get(key);
    }

    public boolean contains(String key) {
        return values.containsKey(key);
    }

    /** A string value, or {@code fallback} when absent. */
    public String getString(String key, String fallback) throws ModelFormatException {
        Object v = values.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof String s) {
            return s;
        }
        throw wrongType(key, v, "a string");
    }

    /** An integer value of any integer type that fits in a non-negative int, or {@code fallback} when absent. */
    public int getInt(String key, int fallback) throws ModelFormatException {
        Object v = values.get(key);
        if (v == null) {
            return fallback;
        }
        long n;
        if (v instanceof Byte b) {
            n = b & 0xff;
        } else if (v instanceof Short s) {
            n = s & 0xffff;
        } else if (v instanceof Integer i) {
            n = i & 0xffffffffL;
        } else if (v instanceof Long l) {
            n = l;
        } else {
            throw wrongType(key, v, "an integer");
        }
        if (n < 0 || n > Integer.MAX_VALUE) {
            throw new ModelFormatException(file + ": GGUF key '" + key + "' value=" + Long.toUnsignedString(n)
                    + " is out of range [0, " + Integer.MAX_VALUE + "]; file corrupt");
        }
        return (int) n;
    }

    /** A float32 or float64 value, or {@code fallback} when absent. */
    public float getFloat(String key, float fallback) throws ModelFormatException {
        Object v = values.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Float f) {
            return f;
        }
        if (v instanceof Double d) {
            return d.floatValue();
        }
        throw wrongType(key, v, "a float");
    }

    /** A bool value, or {@code fallback} when absent. */
    public boolean getBoolean(String key, boolean fallback) throws ModelFormatException {
        Object v = values.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        throw wrongType(key, v, "a bool");
    }

    /** An array value of the given Java array class, or null when absent. */
    public <T> T getArray(String key, Class<T> arrayClass, String expected) throws ModelFormatException {
        Object v = values.get(key);
        if (v == null) {
            return null;
        }
        if (arrayClass.isInstance(v)) {
            return arrayClass.cast(v);
        }
        throw wrongType(key, v, expected);
    }

    private ModelFormatException wrongType(String key, Object v, String expected) {
        return new ModelFormatException(file + ": GGUF key '" + key + "' is " + v.getClass().getSimpleName()
                + ", expected " + expected + "; file corrupt or not a model this engine reads");
    }
}
