package dev.icecache.model.tokenizer;


/**
 * SentencePiece BPE with byte fallback, the algorithm of llama.cpp's SPM tokenizer (GGUF
 * {@code tokenizer.ggml.model = llama}, and llama2.c's {@code tokenizer.bin}):
 * <ol>
 *   <li>user-defined tokens (and control tokens when asked) are matched literally first;</li>
 *   <li>each remaining fragment gets a leading space when it starts the text or follows a
 *       special token ({@code add_space_prefix}), and every space becomes U+2581;</li>
 *   <li>the fragment starts as one symbol per character; the adjacent pair whose joined text
 *       is a piece with the highest score merges first (ties: leftmost), until none is left;</li>
 *   <li>a final symbol that is no piece is written as its UTF-8 bytes, each the token
 *       {@code <0xXX>} (or the unknown token when the vocabulary lacks that byte).</li>
 * </ol>
 * Control and unknown tokens never come out of the merge step.
 */
public final class SentencePieceTokenizer implements Tokenizer {

    private static final char SPACE_MARK = '\u2581';

    private final Vocabulary vocabulary;
    private final boolean addSpacePrefix;
    private final PieceTable pieces;
    private final SpecialTokens specialTokens;
    // [token] merge priority: lower merges first (the score, order-reversed, as an int)
    private final int[] priority;
    // [byte] the token of a raw byte under byte fallback
    private final int[] byteToken;
    private final DecodeTable decodeTable;

    /** A tokenizer that adds the leading space, as llama.cpp does for Llama vocabularies. */
    public SentencePieceTokenizer(Vocabulary vocabulary) {
        this(vocabulary, true);
    }

    /**
     * @param addSpacePrefix GGUF {@code tokenizer.ggml.add_space_prefix} (true when absent)
     * @throws IllegalArgumentException when a score is NaN
     */
    public SentencePieceTokenizer(Vocabulary vocabulary, boolean addSpacePrefix) {
        this.vocabulary = vocabulary;
        this.addSpacePrefix = addSpacePrefix;
        String[] tokens = vocabulary.tokens();
        int n = tokens.length;
        boolean[] fromText = new boolean[n];
        priority = new int[n];
        byte[][] output = new byte[n][];
        for (int id = 0; id < n; id++) {
            int type = TokenType.of(vocabulary, id);
            fromText[id] = TokenType.reachableFromText(type);
            priority[id] = priorityOf(vocabulary, id);
            output[id] = outputBytes(tokens[id], type);
        }
        decodeTable = new DecodeTable(output);
        pieces = new PieceTable(tokens, fromText);
        specialTokens = new SpecialTokens(vocabulary);
        byteToken = new int[256];
        for (int b = 0; b < 256; b++) {
            int id = pieces.find(String.format("<0x%02X>", b));
            if (id < 0 && b < 0x80) {
                id = pieces.find(String.valueOf((char) b));
            }
            byteToken[b] = id >= 0 ? id : vocabulary.unk();
        }
    }

    private static int priorityOf(Vocabulary vocabulary, int id) {
        float score = vocabulary.scores() == null ? 0f : vocabulary.scores()[id];
        if (Float.isNaN(score)) {
            throw new IllegalArgumentException("score of token " + id + " is NaN; the vocabulary is corrupt");
        }
        // +0f turns -0.0 into 0.0: llama.cpp compares scores as floats, where they are equal
        int bits = Float.floatToIntBits(score + 0f);
        int ascending = bits ^ ((bits >> 31) & 0x7FFFFFFF);
        return ~ascending;
    }

    private static byte[] outputBytes(String piece, int type) {
        if (type == TokenType.CONTROL) {
            return new byte[0];
        }
        int byteValue = type == TokenType.BYTE ? byteValueOf(piece) : -1;
        if (byteValue >= 0) {
            return new byte[] {(byte) byteValue};
        }
        if (type == TokenType.UNKNOWN) {
            // llama.cpp renders the unknown token as U+2585
            return Utf8.bytesOf("\u2585");
        }
        return Utf8.bytesOf(type == TokenType.USER_DEFINED ? piece : piece.replace(SPACE_MARK, ' '));
    }

    /** The byte of a piece written {@code <0xXX>}, or -1 for any other piece. */
    static int byteValueOf(String piece) {
        if (piece.length() != 6 || !piece.startsWith("<0x") || piece.charAt(5) != '>') {
            return -1;
        }
        int high = Character.digit(piece.charAt(3), 16);
        int low = Character.digit(piece.charAt(4), 16);
        return high < 0 || low < 0 ? -1 : high * 16 + low;
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
        final BigramMerger merger = new BigramMerger();
        final byte[] utf8 = new byte[4];
        char[] buffer = new char[16];
        boolean previousSpecial = true;

        Session(int textLength) {
            ids = new IntList(textLength / 3 + 4);
        }

        @Override
        public void text(String text, int from, int to) {
            int length = to - from + (addSpacePrefix && previousSpecial ? 1 : 0);
            if (buffer.length < length) {
                buffer = new char[length];
            }
            int n = 0;
            if (addSpacePrefix && previousSpecial) {
                buffer[n++] = SPACE_MARK;
            }
            for (int i = from; i < to; ) {
                int cp = Utf8.codePointAt(text, i, to);
                i += cp == Utf8.REPLACEMENT ? 1 : Character.charCount(cp);
                n += Character.toChars(cp == ' ' ? SPACE_MARK : cp, buffer, n);
            }
            merger.merge(buffer, 0, n, false, this, this);
            previousSpecial = false;
        }

        @Override
        public void token(int id) {
            ids.add(id);
            previousSpecial = true;
        }

        @Override
        public int rank(char[] text, int start, int leftLength, int length) {
            int id = pieces.find(text, start, length);
            return id < 0 ? MergeRanks.NO_MERGE : priority[id];
        }

        @Override
        public void accept(char[] text, int start, int length) {
            int id = pieces.find(text, start, length);
            if (id >= 0) {
                ids.add(id);
                return;
            }
            // byte fallback: one token per UTF-8 byte of the (single, unmerged) character
            for (int i = start; i < start + length; ) {
                int cp = Utf8.codePointAt(text, i, start + length);
                int count = Utf8.encode(cp, utf8, 0);
                for (int b = 0; b < count; b++) {
                    int token = byteToken[utf8[b] & 0xFF];
                    if (token >= 0) {
                        ids.add(token);
                    }
                }
                i += Character.isSupplementaryCodePoint(cp) ? 2 : 1;
            }
        }
    }
}
