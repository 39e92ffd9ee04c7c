package dev.icecache.model.tokenizer;

import static dev.icecache.model.tokenizer.CodePointClass.isLetter;
import static dev.icecache.model.tokenizer.CodePointClass.isNumber;
import static dev.icecache.model.tokenizer.CodePointClass.isOther;
import static dev.icecache.model.tokenizer.CodePointClass.isWhitespace;
import static dev.icecache.model.tokenizer.CodePointClass.toLowerAscii;

/**
 * The Llama 3 pre-tokenizer regex as a scanner (see {@link PreTokenizer#LLAMA3}); with runs of
 * at most one digit ({@code \p{N}} instead of {@code \p{N}{1,3}}) it is Qwen 2's.
 */
final class Llama3Split {

    private Llama3Split() {
    }

    static void split(int[] cps, int from, int to, IntList ends) {
        split(cps, from, to, 3, ends);
    }

    /** As {@link #split(int[], int, int, IntList)} with numbers split into runs of at most {@code maxDigits}. */
    static void split(int[] cps, int from, int to, int maxDigits, IntList ends) {
        int pos = from;
        while (pos < to) {
            pos = nextWordEnd(cps, pos, to, maxDigits);
            ends.add(pos);
        }
    }

    private static int at(int[] cps, int pos, int to) {
        return pos < to ? cps[pos] : CodePointClass.NONE;
    }

    /** The end of the word starting at {@code pos}: the first alternative of the regex that matches. */
    private static int nextWordEnd(int[] cps, int pos, int to, int maxDigits) {
        int cp = cps[pos];
        // (?i:'s|'t|'re|'ve|'m|'ll|'d)
        if (cp == '\'' && pos + 1 < to) {
            int c1 = toLowerAscii(cps[pos + 1]);
            if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
                return pos + 2;
            }
            if (pos + 2 < to) {
                int c2 = toLowerAscii(cps[pos + 2]);
                if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) {
                    return pos + 3;
                }
            }
        }
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (cp != '\r' && cp != '\n' && !isNumber(cp) && (isLetter(cp) || isLetter(at(cps, pos + 1, to)))) {
            int end = pos + 1;
            while (isLetter(at(cps, end, to))) {
                end++;
            }
            return end;
        }
        // \p{N}{1,maxDigits}
        if (isNumber(cp)) {
            int end = pos + 1;
            while (end - pos < maxDigits && isNumber(at(cps, end, to))) {
                end++;
            }
            return end;
        }
        // ' '?[^\s\p{L}\p{N}]+[\r\n]*
        int first = cp == ' ' ? pos + 1 : pos;
        if (isOther(at(cps, first, to))) {
            int end = first;
            while (isOther(at(cps, end, to))) {
                end++;
            }
            while (at(cps, end, to) == '\r' || at(cps, end, to) == '\n') {
                end++;
            }
            return end;
        }
        int spaces = 0;
        int lastLineBreakEnd = 0;
        while (isWhitespace(at(cps, pos + spaces, to))) {
            int c = cps[pos + spaces];
            if (c == '\r' || c == '\n') {
                lastLineBreakEnd = pos + spaces + 1;
            }
            spaces++;
        }
        // \s*[\r\n]+
        if (lastLineBreakEnd > 0) {
            return lastLineBreakEnd;
        }
        // \s+(?!\S): all but the last space when something follows
        if (spaces > 1 && pos + spaces < to) {
            return pos + spaces - 1;
        }
        // \s+, or no match at all: one code point
        return spaces > 0 ? pos + spaces : pos + 1;
    }
}
