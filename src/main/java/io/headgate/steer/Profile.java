package io.headgate.steer;

import java.time.Instant;
import java.util.Objects;

/**
 * One stored revision of a named profile of a model. {@code spec} is null only in the notification of a
 * deletion ({@link ProfileRegistry#subscribe}); profiles read from the registry always have one.
 */
public record Profile(String model, String name, long revision, ProfileSpec spec, Instant createdAt) implements Revisioned {

    public Profile {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(createdAt, "createdAt");
        if (revision <= 0) throw new IllegalArgumentException("revision must be positive: " + revision);
    }

    /** True for the notification of a deletion. */
    @Override
    public boolean deleted() {
        return spec == null;
    }
}
