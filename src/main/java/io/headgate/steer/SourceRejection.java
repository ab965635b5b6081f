package io.headgate.steer;

import java.nio.file.Path;

/**
 * A file of a watched directory that a sync did not store: which registry ({@code kind}: profile or
 * experiment), the file, why ({@code reason}, one of the constants below), the field at fault and a
 * message.
 */
public record SourceRejection(String kind, Path file, String reason, String field, String message) {

    /** The file's name is not {@code <model>/<name>.json} or {@code <model>__<name>.json} with valid names. */
    public static final String NAME = "name";
    /** The file is not JSON of the kind's shape. */
    public static final String JSON = "json";
    /** The spec fails the checks {@code Put} makes. */
    public static final String SPEC = "spec";
    /** The model is not served here or failed to load. */
    public static final String MODEL = "model";
    /** An experiment's arm names a profile that does not exist or does not fit the model. */
    public static final String PROFILE = "profile";

    @Override
    public String toString() {
        return kind + " file " + file + ": " + (field.isEmpty() ? "" : field + ": ") + message;
    }
}
