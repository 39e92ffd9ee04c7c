package dev.icecache.operators.decode;

import java.util.Arrays;
import java.util.Locale;

/**
 * What the decoder does with a document that does not fit the context together with its
 * instruction and summary ({@code icecache.summary.overflow}, {@code --overflow}).
 */
public enum OverflowMode {
    /** The document ends with one {@code error} line and no summary (the behaviour before segments). */
    REJECT("reject"),
    /**
     * The document is read in segments that fit; each is prefilled after the instruction and the
     * running summary so far, and the model writes the new running summary; the context restarts
     * for the next segment with only that summary carried over.
     */
    REFINE("refine"),
    /** Each segment is summarized on its own; then summaries of the summaries, until they fit one context. */
    MAP_REDUCE("map-reduce");

    private final String value;

    OverflowMode(String value) {
        this.value = value;
    }

    /** The name users write: {@code reject}, {@code refine} or {@code map-reduce}. */
    public String value() {
        return value;
    }

    /**
     * The mode a user wrote (case and '-' or '_' as they like).
     *
     * @throws IllegalArgumentException naming the allowed values
     */
    public static OverflowMode parse(String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        for (OverflowMode m : values()) {
            if (m.value.equals(t)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown overflow mode '" + text + "'; use one of "
                + Arrays.stream(values()).map(OverflowMode::value).toList());
    }
}
