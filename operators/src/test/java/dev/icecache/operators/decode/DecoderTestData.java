package dev.icecache.operators.decode;

import java.util.List;
import java.util.SplittableRandom;

import dev.icecache.operators.config.DecoderSettings;
import dev.icecache.operators.output.DocumentStats;
import dev.icecache.operators.output.SummaryPiece;
import dev.icecache.operators.tokenize.TokenChunk;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;

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

    /** A harness around the decoder with {@code settings}, keyed by document, on the HashMap backend. */
    static KeyedOneInputStreamOperatorTestHarness<String, TokenChunk, SummaryPiece> newHarness(
            DecoderSettings settings) throws Exception {
        var harness = new KeyedOneInputStreamOperatorTestHarness<>(new DecoderOperator(new IceCacheDecoder(settings)),
                TokenChunk::docId, Types.STRING);
        harness.setStateBackend(new HashMapStateBackend());
        return harness;
    }

    /**
     * The pieces as JSON lines without the figures a restore changes: seconds, and the page
     * moves and hit rate of the resident pool, which a restored document refills from state.
     */
    static List<String> withoutAttemptFigures(List<SummaryPiece> pieces) {
        return pieces.stream().map(p -> new SummaryPiece(p.docId(), p.seq(), p.text(), p.last(),
                new DocumentStats(p.stats().tokensIn(), p.stats().tokensOut(), 0, 0.0, 0.0, p.stats().segments()),
                p.error(), p.kind(), p.upTo()).toJsonLine()).toList();
    }
}
