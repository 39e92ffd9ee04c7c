package dev.icecache.operators.decode;

import java.util.List;
import java.util.SplittableRandom;

import dev.icecache.operators.output.SummaryPiece;

/** Inputs and output views the decoder tests share. */
final class DecoderTestData {

    /** Ids below this are the special tokens (unk, bos, eos) of the test models. */
    private static final int FIRST_ORDINARY_TOKEN = 3;

    private DecoderTestData() {
    }

    /** {@code n} ordinary token ids of a {@code vocab}-token vocabulary, drawn from {@code random}. */
    static int[] randomTokens(SplittableRandom random, int vocab, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = FIRST_ORDINARY_TOKEN + random.nextInt(vocab - FIRST_ORDINARY_TOKEN);
        }
        return t;
    }

    /** The pieces of one document, in emitted order. */
    static List<SummaryPiece> only(List<SummaryPiece> pieces, String doc) {
        return pieces.stream().filter(p -> p.docId().equals(doc)).toList();
    }

    /** The pieces' texts joined: the document's whole generated text. */
    static String joined(List<SummaryPiece> pieces) {
        StringBuilder sb = new StringBuilder();
        pieces.forEach(p -> sb.append(p.text()));
        return sb.toString();
    }
}
