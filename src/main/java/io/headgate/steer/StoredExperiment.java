package io.headgate.steer;

import java.time.Instant;
import java.util.List;

/**
 * One experiment revision as written to {@code <model>/<name>/<revision>.json}; like
 * {@link StoredRevision} it repeats its own model, name and revision, and a deletion is flagged.
 */
record StoredExperiment(
        String model,
        String name,
        long revision,
        String createdAt,
        boolean deleted,
        String description,
        List<Arm> arms) {

    static StoredExperiment of(Experiment e) {
        ExperimentSpec spec = e.deleted() ? new ExperimentSpec("", List.of()) : e.spec();
        return new StoredExperiment(e.model(), e.name(), e.revision(), e.createdAt().toString(), e.deleted(),
                spec.description(), spec.arms());
    }

    Experiment toExperiment() {
        return new Experiment(model, name, revision, deleted ? null : new ExperimentSpec(description, arms), Instant.parse(createdAt));
    }
}
