package dev.icecache.model.synthetic;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;

import dev.icecache.model.tensor.GgmlType;
import org.junit.jupiter.api.Test;

/** The K-quant mixes against llama.cpp's rule, written out for 16 blocks (the 1B shape). */
class WeightTypesTest {

    // use_more_bits for 16 blocks: the first and last eighth (0, 1, 14, 15) and every third between (4, 7, 10, 13)
    private static final List<Integer> MORE_BITS = List.of(0, 1, 4, 7, 10, 13, 14, 15);

    @Test
    void shouldGiveQ6KToTheClassifierAndToAttnVAndFfnDownOfTheSensitiveBlocks() {
        for (GgmlType rest : new GgmlType[] {GgmlType.Q4_K, GgmlType.Q5_K}) {
            WeightTypes mix = rest == GgmlType.Q4_K ? WeightTypes.q4KM() : WeightTypes.q5KM();
            assertEquals(GgmlType.Q6_K, mix.of("output.weight", -1, 16, 2048), rest + " output");
            List<Integer> sixBits = new ArrayList<>();
            for (int layer = 0; layer < 16; layer++) {
                GgmlType v = mix.of("attn_v.weight", layer, 16, 2048);
                assertEquals(v, mix.of("ffn_down.weight", layer, 16, 8192), rest + " layer " + layer);
                if (v == GgmlType.Q6_K) {
                    sixBits.add(layer);
                } else {
                    assertEquals(rest, v, rest + " layer " + layer);
                }
                assertEquals(rest, mix.of("attn_q.weight", layer, 16, 2048), rest + " attn_q");
                assertEquals(rest, mix.of("ffn_gate.weight", layer, 16, 2048), rest + " ffn_gate");
            }
            assertEquals(MORE_BITS, sixBits, rest + ": the blocks whose attn_v and ffn_down take Q6_K");
            assertEquals(rest == GgmlType.Q4_K ? GgmlType.Q5_0 : GgmlType.Q5_1, mix.of("attn_q.weight", 3, 16, 288),
                    rest + ": llama.cpp's fallback for rows that are not whole super-blocks");
        }
    }
}
