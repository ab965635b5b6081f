package io.headgate.convert;

/** A checkpoint that cannot be converted; the message names the offending tensor, field or file. */
public class CheckpointException extends IllegalArgumentException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
