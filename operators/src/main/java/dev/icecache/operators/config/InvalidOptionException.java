package dev.icecache.operators.config;

/**
 * An option has a value it may not have. The message is one line naming the option, the value
 * given and what is allowed, e.g. {@code "icecache.budget.tokens=70 is invalid; allowed: a
 * multiple of 16, at least 64"}. Command lines report it as a usage error.
 */
public final class InvalidOptionException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String option;

    /**
     * @param option the option's key or flag
     * @param value the value given (null when the option is missing)
     * @param allowed what would be accepted
     */
    public InvalidOptionException(String option, Object value, String allowed) {
        super(option + (value == null ? " is not set" : "=" + value + " is invalid") + "; allowed: " + allowed);
        this.option = option;
    }

    /** The option's key or flag. */
    public String option() {
        return option;
    }
}
