package dev.icecache.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.icecache.model.HeapWeights.Mode;
import dev.icecache.model.tensor.FloatTensor;
import dev.icecache.model.tensor.GgmlType;
import dev.icecache.model.tensor.HeapRows;
import dev.icecache.model.tensor.Q8_0Tensor;
import org.junit.jupiter.api.Test;

/** Where {@link HeapWeights} puts a model's tensors, for each mode and heap size. */
class HeapWeightsTest {

    private static final long MIB = 1L << 20;

    /** Decode rows of {@link #mapped}: 6 Q8_0 blocks of 36 bytes and one Q4_K super-block of 160. */
    private static final long ROWS = 6 * 36 + 160;

    /**
     * Two Q8_0 tensors of 2 and 4 blocks, a Q4_K one of one super-block and an F32 one, in direct
     * buffers as a mapping holds them.
     */
    private static Map<String, FloatTensor> mapped() {
        Map<String, FloatTensor> t = new LinkedHashMap<>();
        t.put("a", tensor("a", GgmlType.Q8_0, 64));
        t.put("norm", tensor("norm", GgmlType.F32, 8));
        t.put("b", tensor("b", GgmlType.Q8_0, 128));
        t.put("c", tensor("c", GgmlType.Q4_K, 256));
        return t;
    }

    private static FloatTensor tensor(String name, GgmlType type, int n) {
        ByteBuffer b = ByteBuffer.allocateDirect((int) type.byteSizeFor(n)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < b.capacity(); i++) {
            b.put(i, (byte) (i * 7 + 3)); // f16 scales of these bytes are finite numbers
        }
        return FloatTensor.of(name, type, b, n);
    }

    private static boolean rows(Map<String, FloatTensor> t, String name) {
        return ((HeapRows) t.get(name)).hasHeapRows();
    }

    private static boolean all(HeapRows t) {
        return true;
    }

    @Test
    void shouldCopyTheQuantizedTensorsWhereTheyTakeAQuarterOfTheHeapOrLess() {
        Map<String, FloatTensor> in = mapped();
        Map<String, FloatTensor> out = HeapWeights.place(in, Mode.AUTO, HeapWeightsTest::all, 4 * ROWS, ROWS);
        assertEquals(in.keySet().stream().toList(), out.keySet().stream().toList(), "same names, same order");
        assertTrue(rows(out, "a") && rows(out, "b") && rows(out, "c"), "Q8_0 and Q4_K tensors with decode rows");
        assertSame(in.get("norm"), out.get("norm"), "other types stay as they are");
        for (String name : new String[] {"a", "b", "c"}) {
            for (long i = 0; i < in.get(name).size(); i++) {
                assertEquals(in.get(name).getFloat(i), out.get(name).getFloat(i), name + "[" + i + "]");
            }
        }
    }

    @Test
    void shouldKeepThemMappedPastAQuarterOfTheHeapWithoutTheKernelOrWhenOff() {
        Map<String, FloatTensor> in = mapped();
        assertSame(in, HeapWeights.place(in, Mode.AUTO, HeapWeightsTest::all, 4 * 72 - 1, 64 * MIB), "no tensor fits a quarter");
        assertSame(in, HeapWeights.place(in, Mode.TRUE, t -> false, 64 * MIB, 64 * MIB), "a kernel that reads in place");
        assertSame(in, HeapWeights.place(in, Mode.FALSE, HeapWeightsTest::all, 64 * MIB, 64 * MIB), "off");
        assertFalse(rows(in, "a"));
    }

    /** Past a quarter, AUTO adds rows tensor by tensor while they fit: the Q4_K one first, then Q8_0 in the model's order. */
    @Test
    void shouldAddRowsTensorByTensorWhileTheyFitInAQuarter() {
        Map<String, FloatTensor> in = mapped();
        Map<String, FloatTensor> out = HeapWeights.place(in, Mode.AUTO, HeapWeightsTest::all, 4 * ROWS - 4, 64 * MIB);
        assertTrue(rows(out, "c") && rows(out, "a"), "Q4_K (160 bytes), then the first Q8_0 (72): 232 of a quarter of 375");
        assertSame(in.get("b"), out.get("b"), "the second Q8_0 (144) would pass the quarter");
        out = HeapWeights.place(in, Mode.AUTO, HeapWeightsTest::all, 4 * 144, 64 * MIB);
        assertTrue(rows(out, "a") && !rows(out, "b") && !rows(out, "c"),
                "a quarter of 144: the Q4_K rows (160) do not fit; the first Q8_0 (72) does, and then the second (144) does not");
        assertEquals(in.keySet().stream().toList(), out.keySet().stream().toList(), "same names, same order");
    }

    @Test
    void shouldCopyOnlyTheTypesWhoseKernelReadsTheRows() {
        Map<String, FloatTensor> in = mapped();
        Map<String, FloatTensor> out = HeapWeights.place(in, Mode.AUTO, t -> t instanceof Q8_0Tensor, 4 * 6 * 36, 6 * 36);
        assertTrue(rows(out, "a") && rows(out, "b"), "Q8_0 rows");
        assertSame(in.get("c"), out.get("c"), "the Q4_K tensor stays mapped, and does not count toward the quarter");
    }

    @Test
    void shouldCopyPastAQuarterWhenTrueAndSayWhenTheHeapCannotHoldThem() {
        Map<String, FloatTensor> in = mapped();
        Map<String, FloatTensor> out = HeapWeights.place(in, Mode.TRUE, HeapWeightsTest::all, ROWS, ROWS);
        assertTrue(rows(out, "a") && rows(out, "b") && rows(out, "c"));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> HeapWeights.place(in, Mode.TRUE, HeapWeightsTest::all, 64 * MIB, ROWS - 1));
        assertTrue(e.getMessage().startsWith("icecache.weights.heap=true: the decode rows of the model's quantized weights need")
                && e.getMessage().contains("-Xmx") && !e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void shouldParseTheModesAndNameThePropertyForABadValue() {
        assertEquals(Mode.AUTO, HeapWeights.parse("auto"));
        assertEquals(Mode.TRUE, HeapWeights.parse(" TRUE "));
        assertEquals(Mode.FALSE, HeapWeights.parse("false"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HeapWeights.parse("yes"));
        assertEquals("icecache.weights.heap=yes is not a valid value: use auto (the default), true or false", e.getMessage());
    }
}
