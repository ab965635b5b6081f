package io.headgate.engine;

/**
 * A request the engine will not serve, with the kind of refusal (the API maps it to a gRPC status)
 * and the field it is about.
 */
public class Rejection extends RuntimeException {

    public enum Kind { INVALID, NOT_FOUND, UNAVAILABLE, EXHAUSTED, PRECONDITION }

    private final Kind kind;
    private final String field;

    public Rejection(Kind kind, String field, String message) {
        super(field == null || field.isEmpty() ? message : field + ": " + message);
        this.kind = kind;
        this.field = field;
    }

    public Kind kind() {
        return kind;
    }

    public String field() {
        return field;
    }
}
