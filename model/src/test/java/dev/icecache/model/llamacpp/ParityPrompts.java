package dev.icecache.model.llamacpp;

import java.util.List;

/** The prompts compared against llama.cpp: mixed text, punctuation, digits, unicode, emoji, newlines, spaces. */
final class ParityPrompts {

    static final List<String> ALL = List.of(
            "Once upon a time",
            "Hello world",
            "The little dog ran to the park and saw a big red ball.",
            " leading space",
            "   three leading spaces",
            "trailing space ",
            "double  space and\ttab",
            "Lily's mom said, \"Let's go!\"",
            "Numbers: 0 7 42 1234567 3.14159 -12",
            "2024-06-07 12:30:45",
            "line one\nline two\n\nline four",
            "\nstarts with a newline",
            "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00fcber",
            "\u4e2d\u6587\u5b57 \u65e5\u672c\u8a9e \ud55c\uad6d\uc5b4",
            "emoji \ud83d\ude00\ud83d\ude80 and \u2764\ufe0f",
            "Punctuation!?;:,.()[]{}<>/\\|@#$%^&*_+=~`",
            "It was a bright cold day in April, and the clocks were striking thirteen.",
            "CAPITALS and MiXeD CaSe",
            "don't won't I'm you're we've they'll he'd",
            "a",
            "Elizabeth Bennet walked to Netherfield through the mud.",
            "In the beginning God created the heavens and the earth.",
            "\u0394\u03b5\u03bb\u03c4\u03b1 \u043f\u0440\u0438\u0432\u0435\u0442 \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",
            "mixed123abc 4five six7",
            "special </s> tokens <s>inside text");

    private ParityPrompts() {
    }
}
