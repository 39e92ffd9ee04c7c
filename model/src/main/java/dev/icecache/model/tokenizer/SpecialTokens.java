package dev.icecache.model.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The pass that runs before a model's own algorithm, as llama.cpp's
 * {@code tokenizer_st_partition} does: added (user-defined) tokens, and with
 * {@code parseSpecial} also control and unknown tokens, are matched literally in the text,
 * longest piece first, and cut the text into raw fragments and ready tokens.
 */
final class SpecialTokens {

    /** Receives the fragments in text order. */
    interface FragmentSink {
        /** Plain text {@code text[from, to)} for the model's algorithm. */
        void text(String text, int from, int to);

        /** A token matched literally. */
        void token(int id);
    }

    // [i] token ids of pieces matched literally, longest piece first
    private final int[] literal;
    private final boolean[] control;
    private final String[] pieces;

    SpecialTokens(Vocabulary vocabulary) {
        this.pieces = vocabulary.tokens();
        List<Integer> ids = new ArrayList<>();
        this.control = new boolean[pieces.length];
        for (int id = 0; id < pieces.length; id++) {
            int type = TokenType.of(vocabulary, id);
            control[id] = type != TokenType.USER_DEFINED;
            if (TokenType.matchedLiterally(type, true) && !pieces[id].isEmpty()) {
                ids.add(id);
            }
        }
        ids.sort(Comparator.comparingInt((Integer id) -> -pieces[id].length()).thenComparingInt(id -> id));
        this.literal = ids.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Cuts {@code text} into fragments and hands them to {@code sink} in order. */
    void partition(String text, boolean parseSpecial, FragmentSink sink) {
        // fragments as (kind, a, b): kind 0 = text [a, b), kind 1 = token a
        IntList fragments = new IntList(8);
        fragments.add(0);
        fragments.add(0);
        fragments.add(text.length());
        for (int id : literal) {
            if (control[id] && !parseSpecial) {
                continue;
            }
            String piece = pieces[id];
            if (text.indexOf(piece) >= 0) {
                fragments = cut(text, fragments, piece, id);
            }
        }
        for (int i = 0; i < fragments.size(); i += 3) {
            if (fragments.get(i) == 0) {
                sink.text(text, fragments.get(i + 1), fragments.get(i + 2));
            } else {
                sink.token(fragments.get(i + 1));
            }
        }
    }

    private static IntList cut(String text, IntList fragments, String piece, int id) {
        IntList result = new IntList(fragments.size() + 6);
        // the next occurrence at or after the current position; -1 once none is left, so
        // the whole text is scanned once per piece however many fragments there are
        int match = -2;
        for (int i = 0; i < fragments.size(); i += 3) {
            int kind = fragments.get(i);
            int from = fragments.get(i + 1);
            int to = fragments.get(i + 2);
            if (kind != 0) {
                result.add(kind);
                result.add(from);
                result.add(to);
                continue;
            }
            int position = from;
            while (true) {
                if (match != -1 && match < position) {
                    match = text.indexOf(piece, position);
                }
                if (match < 0 || match + piece.length() > to) {
                    break;
                }
                if (match > position) {
                    addText(result, position, match);
                }
                result.add(1);
                result.add(id);
                result.add(0);
                position = match + piece.length();
            }
            if (position < to) {
                addText(result, position, to);
            }
        }
        return result;
    }

    private static void addText(IntList fragments, int from, int to) {
        fragments.add(0);
        fragments.add(from);
        fragments.add(to);
    }
}
