package dev.icecache.bench.retrieval;

/**
 * One retrieval prompt in token ids: filler with planted key sentences, ending in a question
 * whose answer is the next tokens.
 *
 * <pre>
 *   prompt = [BOS] | body: filler sentences, distractor needles, the asked needle | question
 *            0       bodyStart      needleStart -> "The pass key is 48213. Remember it."     bodyEnd .. length
 *                                                                   ^ valueStart, answer.length tokens
 * </pre>
 *
 * @param prompt the whole prompt, BOS first when the vocabulary has one
 * @param answer the token ids of the asked value as planted ({@code prompt[valueStart ..]}); the
 *               correct continuation of the prompt
 * @param value the asked value as text (e.g. "48213")
 * @param valueStart prompt position of the value's first token
 * @param needleStart prompt position of the asked needle sentence's first token
 * @param bodyStart first position after BOS
 * @param bodyEnd first position of the question
 * @param depthPercent the depth asked for: 0 = the needle opens the body, 100 = it closes it
 * @param keys key sentences planted: 1 is the passkey, more is multi-key (one of them asked)
 */
public record Haystack(int[] prompt, int[] answer, String value, int valueStart, int needleStart, int bodyStart,
                       int bodyEnd, int depthPercent, int keys) {

    /** Prompt tokens. */
    public int length() {
        return prompt.length;
    }

    /** One past the prompt position of the value's last token. */
    public int valueEnd() {
        return valueStart + answer.length;
    }
}
