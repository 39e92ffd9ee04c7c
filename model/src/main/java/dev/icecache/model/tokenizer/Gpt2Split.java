package dev.icecache.model.tokenizer;

import static dev.icecache.model.tokenizer.CodePointClass.isLetter;
import static dev.icecache.model.tokenizer.CodePointClass.isNumber;
import static dev.icecache.model.tokenizer.CodePointClass.isOther;
import static dev.icecache.model.tokenizer.CodePointClass.isPunctuation;
import static dev.icecache.model.tokenizer.CodePointClass.isWhitespace;

/**
 * The GPT-2 pre-tokenizer regex as a scanner (see {@link PreTokenizer#GPT2}), and the simple
 * run splits that {@link PreTokenizer#DEFAULT} chains with it. Text between matches becomes a
 * word of its own, as in llama.cpp's regex split.
 */
final class Gpt2Split {

    private Gpt2Split() {
    }

    static void split(int[] cps, int from, int to, IntList ends) {
        int pos = from;
        while (pos < to) {
            pos = nextWordEnd(cps, pos, to);
            ends.add(pos);
        }
    }

    private static int at(int[] cps, int pos, int to) {
        return pos < to ? cps[pos] : CodePointClass.NONE;
    }

    private static int nextWordEnd(int[] cps, int pos, int to) {
        int cp = cps[pos];
        // 's|'t|'re|'ve|'m|'ll|'d (case-sensitive)
        if (cp == '\'' && pos + 1 < to) {
            int c1 = cps[pos + 1];
            if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
                return pos + 2;
            }
            if (pos + 2 < to) {
                int c2 = cps[pos + 2];
                if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) {
                    return pos + 3;
                }
            }
        }
        int first = cp == ' ' ? pos + 1 : pos;
        int head = at(cps, first, to);
        // ' '?\p{L}+ | ' '?\p{N}+ | ' '?[^\s\p{L}\p{N}]+
        if (isLetter(head)) {
            return runEnd(cps, first, to, Kind.LETTER);
        }
        if (isNumber(head)) {
            return runEnd(cps, first, to, Kind.NUMBER);
        }
        if (isOther(head)) {
            return runEnd(cps, first, to, Kind.OTHER);
        }
        int spaces = 0;
        while (isWhitespace(at(cps, pos + spaces, to))) {
            spaces++;
        }
        // \s+(?!\S): all but the last space when something follows
        if (spaces > 1 && pos + spaces < to) {
            return pos + spaces - 1;
        }
        return spaces > 0 ? pos + spaces : pos + 1;
    }

    private enum Kind { LETTER, NUMBER, OTHER, PUNCTUATION }

    private static boolean is(Kind kind, int cp) {
        switch (kind) {
            case LETTER:
                return isLetter(cp);
            case NUMBER:
                return isNumber(cp);
            case OTHER:
                return isOther(cp);
            default:
                return isPunctuation(cp) || cp == '$' || cp == '+' || cp == '<' || cp == '=' || cp == '>'
                        || cp == '^' || cp == '~' || cp == '|';
        }
    }

    private static int runEnd(int[] cps, int pos, int to, Kind kind) {
        int end = pos;
        while (end < to && is(kind, cps[end])) {
            end++;
        }
        return end;
    }

    /** {@code [\p{P}\$\+<=>\^~\|]+} runs and the text between them. */
    static void punctuationRuns(int[] cps, int from, int to, IntList ends) {
        runs(cps, from, to, Kind.PUNCTUATION, ends);
    }

    /** {@code \p{N}+} runs and the text between them. */
    static void numberRuns(int[] cps, int from, int to, IntList ends) {
        runs(cps, from, to, Kind.NUMBER, ends);
    }

    private static void runs(int[] cps, int from, int to, Kind kind, IntList ends) {
        int pos = from;
        while (pos < to) {
            boolean inRun = is(kind, cps[pos]);
            int end = pos + 1;
            while (end < to && is(kind, cps[end]) == inRun) {
                end++;
            }
            ends.add(end);
            pos = end;
        }
    }

    /** {@code [0-9][0-9][0-9]} matches, left to right without overlap, and the text between them. */
    static void asciiDigitTriples(int[] cps, int from, int to, IntList ends) {
        int gapStart = from;
        int pos = from;
        while (pos + 3 <= to) {
            if (isAsciiDigit(cps[pos]) && isAsciiDigit(cps[pos + 1]) && isAsciiDigit(cps[pos + 2])) {
                if (pos > gapStart) {
                    ends.add(pos);
                }
                pos += 3;
                ends.add(pos);
                gapStart = pos;
            } else {
                pos++;
            }
        }
        if (gapStart < to) {
            ends.add(to);
        }
    }

    private static boolean isAsciiDigit(int cp) {
        return cp >= '0' && cp <= '9';
    }
}
