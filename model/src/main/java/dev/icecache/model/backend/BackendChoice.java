package dev.icecache.model.backend;

import dev.icecache.model.ComputeBackend;

/**
 * The outcome of asking for a backend: the backend, or none, with one line saying why.
 *
 * @param backend the backend to run on, or null when the provider declined
 * @param reason why this backend (or why none): one line for the log
 */
public record BackendChoice(ComputeBackend backend, String reason) {

    public BackendChoice {
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("a backend choice needs a reason");
        }
    }

    /** A provider's refusal, with its reason. */
    public static BackendChoice declined(String reason) {
        return new BackendChoice(null, reason);
    }

    /** True when there is no backend. */
    public boolean isDeclined() {
        return backend == null;
    }
}
