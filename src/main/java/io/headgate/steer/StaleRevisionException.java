package io.headgate.steer;

/**
 * A write based on a revision that is no longer the current one: someone else wrote first. The caller
 * re-reads, merges and retries with {@link #actual()}; the API maps it to gRPC ABORTED.
 */
public class StaleRevisionException extends RuntimeException {

    private final String model;
    private final String name;
    private final long expected;
    private final long actual;

    public StaleRevisionException(String model, String name, long expected, long actual) {
        this("profile", model, name, expected, actual);
    }

    /** {@code kind} names what was written: "profile", "experiment". */
    public StaleRevisionException(String kind, String model, String name, long expected, long actual) {
        super(kind + " '" + name + "' of model '" + model + "' is at revision " + actual
                + ", not the expected " + expected + (actual == 0 ? " (it does not exist)" : ""));
        this.model = model;
        this.name = name;
        this.expected = expected;
        this.actual = actual;
    }

    public String model() {
        return model;
    }

    public String name() {
        return name;
    }

    public long expected() {
        return expected;
    }

    /** The current revision at the time of the write; 0 when the profile does not exist or is deleted. */
    public long actual() {
        return actual;
    }
}
