package dev.icecache.model.tokenizer;

/**
 * The character classes the pre-tokenizer regexes use ({@code \p{L}}, {@code \p{N}},
 * {@code \p{P}}, {@code \s}), with llama.cpp's definitions: letters and numbers are the Unicode
 * general categories L* and N*; whitespace is the Unicode White_Space set, not just ASCII.
 */
final class CodePointClass {

    /** A position outside the fragment: no class at all (llama.cpp's OUT_OF_RANGE). */
    static final int NONE = -1;

    private CodePointClass() {
    }

    static boolean isLetter(int cp) {
        if (cp < 0) {
            return false;
        }
        switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER:
            case Character.LOWERCASE_LETTER:
            case Character.TITLECASE_LETTER:
            case Character.MODIFIER_LETTER:
            case Character.OTHER_LETTER:
                return true;
            default:
                return false;
        }
    }

    static boolean isNumber(int cp) {
        if (cp < 0) {
            return false;
        }
        int type = Character.getType(cp);
        return type == Character.DECIMAL_DIGIT_NUMBER || type == Character.LETTER_NUMBER
                || type == Character.OTHER_NUMBER;
    }

    static boolean isPunctuation(int cp) {
        if (cp < 0) {
            return false;
        }
        switch (Character.getType(cp)) {
            case Character.CONNECTOR_PUNCTUATION:
            case Character.DASH_PUNCTUATION:
            case Character.START_PUNCTUATION:
            case Character.END_PUNCTUATION:
            case Character.INITIAL_QUOTE_PUNCTUATION:
            case Character.FINAL_QUOTE_PUNCTUATION:
            case Character.OTHER_PUNCTUATION:
                return true;
            default:
                return false;
        }
    }

    /** Unicode White_Space (the set llama.cpp's {@code \s} matches). */
    static boolean isWhitespace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
                || cp == 0x205F || cp == 0x3000;
    }

    /** {@code [^\s\p{L}\p{N}]} inside the fragment. */
    static boolean isOther(int cp) {
        return cp >= 0 && !isWhitespace(cp) && !isLetter(cp) && !isNumber(cp);
    }

    static int toLowerAscii(int cp) {
        return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    }
}
