package dev.icecache.model.tokenizer;


/**
 * Byte-level BPE as GPT-2 and Llama 3 use it (GGUF {@code tokenizer.ggml.model = gpt2}), the
 * algorithm of llama.cpp's BPE tokenizer:
 * <ol>
 *   <li>user-defined tokens (and control tokens when asked) are matched literally first;</li>
 *   <li>each remaining fragment is split into words by the {@link PreTokenizer} that
 *       {@code tokenizer.ggml.pre} names;</li>
 *   <li>a word's UTF-8 bytes are written in the {@link ByteLevelAlphabet}; with
 *       {@link PreTokenizer#ignoresMerges()} a word that is a token is taken whole, otherwise
 *       adjacent symbols merge by the lowest merge rank (ties: leftmost) until none applies;</li>
 *   <li>each final symbol is its token; one that is not a token falls back to its single
 *       characters that are (a well-formed vocabulary has all 256).</li>
 * </ol>
 * Any string encodes and decodes back to itself (lone surrogates become U+FFFD).
 */
public final class Gpt2Tokenizer implements Tokenizer {

    private final Vocabulary vocabulary;
    private final PreTokenizer preTokenizer;
    private final PieceTable pieces;
    private final MergeRanks ranks;
    private final SpecialTokens specialTokens;
    private final DecodeTable decodeTable;

    /**
     * @throws IllegalArgumentException for an unknown {@code tokenizer.ggml.pre} or a merge
     *                                  without a separating space
     */
    public Gpt2Tokenizer(Vocabulary vocabulary) {
        this.vocabulary = vocabulary;
        this.preTokenizer = PreTokenizer.forName(vocabulary.pre());
        String[] tokens = vocabulary.tokens();
        boolean[] fromText = new boolean[tokens.length];
        byte[][] output = new byte[tokens.length][];
        for (int id = 0; id < tokens.length; id++) {
            int type = TokenType.of(vocabulary, id);
            fromText[id] = TokenType.reachableFromText(type);
            output[id] = outputBytes(tokens[id], type);
        }
        decodeTable = new DecodeTable(output);
        pieces = new PieceTable(tokens, fromText);
        ranks = new MergeRanks(vocabulary.merges());
        specialTokens = new SpecialTokens(vocabulary);
    }

    /** The pre-tokenizer that {@code tokenizer.ggml.pre} selected. */
    public PreTokenizer preTokenizer() {
        return preTokenizer;
    }

    private static byte[] outputBytes(String piece, int type) {
        if (type == TokenType.CONTROL) {
            return new byte[0];
        }
        if (type == TokenType.USER_DEFINED) {
            return Utf8.bytesOf(piece);
        }
        byte[] out = new byte[piece.length() * 3];
        int n = 0;
        for (int i = 0; i < piece.length(); i++) {
            char c = piece.charAt(i);
            int b = ByteLevelAlphabet.byteOf(c);
            if (b >= 0) {
                out[n++] = (byte) b;
            } else {
                // not in the byte alphabet (e.g. an added token): the character itself
                n += Utf8.encode(Utf8.codePointAt(piece, i, piece.length()), out, n);
                if (Character.isHighSurrogate(c) && i + 1 < piece.length() && Character.isLowSurrogate(piece.charAt(i + 1))) {
                    i++;
                }
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    @Override
    public Vocabulary vocabulary() {
        return vocabulary;
    }

    @Override
    public int[] encode(String text) {
        return encode(text, false);
    }

    @Override
    public int[] encode(String text, boolean parseSpecial) {
        Session session = new Session(text.length());
        if (!text.isEmpty()) {
            specialTokens.partition(text, parseSpecial, session);
        }
        return session.ids.toArray();
    }

    @Override
    public byte[] tokenBytes(int token) {
        return decodeTable.tokenBytes(token);
    }

    @Override
    public String decode(int[] tokens) {
        return decodeTable.decode(tokens);
    }

    /** Scratch state of one {@link #encode} call. */
    private final class Session implements SpecialTokens.FragmentSink, BigramMerger.PairRanker,
            BigramMerger.SymbolSink {

        final IntList ids;
        final IntList wordEnds = new IntList(64);
        final BigramMerger merger = new BigramMerger();
        final byte[] utf8 = new byte[4];
        int[] codePoints = new int[16];
        char[] word = new char[64];

        Session(int textLength) {
            ids = new IntList(textLength / 3 + 4);
        }

        @Override
        public void text(String text, int from, int to) {
            int count = 0;
            if (codePoints.length < to - from) {
                codePoints = new int[to - from];
            }
            for (int i = from; i < to; ) {
                int cp = Utf8.codePointAt(text, i, to);
                i += cp == Utf8.REPLACEMENT ? 1 : Character.charCount(cp);
                codePoints[count++] = cp;
            }
            wordEnds.clear();
            preTokenizer.split(codePoints, 0, count, wordEnds);
            int start = 0;
            for (int w = 0; w < wordEnds.size(); w++) {
                int end = wordEnds.get(w);
                encodeWord(start, end);
                start = end;
            }
        }

        private void encodeWord(int from, int to) {
            if (word.length < (to - from) * 4) {
                word = new char[(to - from) * 4];
            }
            int n = 0;
            for (int i = from; i < to; i++) {
                int count = Utf8.encode(codePoints[i], utf8, 0);
                for (int b = 0; b < count; b++) {
                    word[n++] = ByteLevelAlphabet.charOf(utf8[b] & 0xFF);
                }
            }
            if (preTokenizer.ignoresMerges()) {
                int whole = pieces.find(word, 0, n);
                if (whole >= 0) {
                    ids.add(whole);
                    return;
                }
            }
            merger.merge(word, 0, n, true, this, this);
        }

        @Override
        public void token(int id) {
            ids.add(id);
        }

        @Override
        public int rank(char[] text, int start, int leftLength, int length) {
            return ranks.rank(text, start, leftLength, length);
        }

        @Override
        public void accept(char[] text, int start, int length) {
            int id = pieces.find(text, start, length);
            if (id >= 0) {
                ids.add(id);
                return;
            }
            for (int i = start; i < start + length; i++) {
                int single = pieces.find(text, i, 1);
                if (single >= 0) {
                    ids.add(single);
                }
            }
        }
    }
}
