package dev.icecache.operators.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class TextAssemblerTest {

    /** Token t stands for byte t: a byte-fallback vocabulary of 256 tokens. */
    private final TextAssembler bytes = new TextAssembler(t -> new byte[] {(byte) t});

    @Test
    void shouldNeverSplitACharacterAndRebuildTheTextForAnySlicing() {
        String text = "héllo wörld – 日本語 😀 done";
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        int[] tokens = new int[utf8.length];
        for (int i = 0; i < utf8.length; i++) {
            tokens[i] = utf8[i] & 0xff;
        }
        for (long seed = 1; seed <= 100; seed++) {
            SplittableRandom random = new SplittableRandom(seed);
            StringBuilder out = new StringBuilder();
            byte[] pending = new byte[0];
            int pos = 0;
            while (pos < tokens.length) {
                int n = Math.min(tokens.length - pos, random.nextInt(1, 6));
                TextAssembler.Piece p = bytes.append(pending, tokens, pos, n, false);
                assertEquals(-1, p.text().indexOf('\uFFFD'), "seed=" + seed + " split character");
                out.append(p.text());
                pending = p.pending();
                pos += n;
            }
            out.append(bytes.append(pending, tokens, 0, 0, true).text());
            assertEquals(text, out.toString(), "seed=" + seed);
        }
    }

    @Test
    void shouldFlushAnUnfinishedCharacterAsReplacementAtTheEnd() {
        TextAssembler.Piece p = bytes.append(new byte[0], new int[] {'a', 0xE6, 0x97}, 0, 3, false);
        assertEquals("a", p.text());
        assertEquals(2, p.pending().length);
        assertEquals("\uFFFD", bytes.append(p.pending(), new int[0], 0, 0, true).text());
    }

    @Test
    void shouldPassInvalidLeadBytesThroughWithoutHoldingThem() {
        TextAssembler.Piece p = bytes.append(new byte[0], new int[] {'x', 0xFF}, 0, 2, false);
        assertEquals(0, p.pending().length);
        assertEquals("x\uFFFD", p.text());
    }
}
