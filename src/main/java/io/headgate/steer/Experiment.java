package io.headgate.steer;

import java.time.Instant;
import java.util.Objects;

/** One stored revision of a named experiment of a model; {@code spec} is null only for a deletion. */
public record Experiment(String model, String name, long revision, ExperimentSpec spec, Instant createdAt) implements Revisioned {

    public Experiment {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(createdAt, "createdAt");
        if (revision <= 0) throw new IllegalArgumentException("revision must be positive: " + revision);
    }

    @Override
    public boolean deleted() {
        return spec == null;
    }
}
