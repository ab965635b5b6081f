package io.headgate.steer;

/** A profile name or revision that does not exist for the model (the API answers NOT_FOUND). */
public class UnknownProfileException extends RuntimeException {
    public UnknownProfileException(String message) {
        super(message);
    }
}
