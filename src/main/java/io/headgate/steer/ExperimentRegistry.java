package io.headgate.steer;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Persistent, versioned A/B experiments, scoped per model: (model, name) → revisions 1, 2, 3, …,
 * stored like profiles (a {@link RevisionStore}: files or etcd; a deletion is a revision) with the
 * same optimistic concurrency: a write names the revision it expects and fails with
 * {@link StaleRevisionException} if another came first. Everything is held in memory; reads never
 * touch the store.
 */
public final class ExperimentRegistry implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Revisions<Experiment> revisions;

    /** A registry on files under {@code dir}, loaded before this returns. */
    public ExperimentRegistry(Path dir) throws IOException {
        this(new FileRevisionStore<>(dir, RevisionCodec.EXPERIMENTS));
    }

    public ExperimentRegistry(RevisionStore<Experiment> store) throws IOException {
        this.revisions = new Revisions<>("experiment", store);
    }

    /**
     * Stores a new revision. Validates the names and the arms, not whether the arms' profiles exist
     * (callers check that against the profile registry).
     *
     * @throws StaleRevisionException if the current revision (0: absent or deleted) is not {@code expectedRevision}
     */
    public Experiment put(String model, String name, ExperimentSpec spec, long expectedRevision) throws IOException {
        ProfileValidator.validateModel(model);
        ProfileValidator.validateName(name);
        Objects.requireNonNull(spec, "spec");
        spec.validate(spec.arms().size() == 1);
        return revisions.write(model, name, expectedRevision, (number, current) -> new Experiment(model, name, number, spec, Instant.now()));
    }

    /**
     * Ends an experiment in favour of one arm: a new revision whose only arm is {@code arm}, weight 1.
     *
     * @throws ProfileException        ("name") if the experiment does not exist, ("arm") if it has no such arm
     * @throws StaleRevisionException if the current revision is not {@code expectedRevision}
     */
    public Experiment promote(String model, String name, String arm, long expectedRevision) throws IOException {
        return revisions.write(model, name, expectedRevision, (number, current) -> {
            if (current == null) throw notFound(model, name);
            Arm chosen = current.spec().arm(arm);
            if (chosen == null) throw new ProfileException("arm", "experiment '" + name + "' has no arm '" + arm + "'");
            ExperimentSpec promoted = new ExperimentSpec(current.spec().description(), List.of(new Arm(chosen.name(), chosen.profile(), 1.0)));
            return new Experiment(model, name, number, promoted, Instant.now());
        });
    }

    /**
     * Records a deletion as a new revision.
     *
     * @return the revision that records it
     */
    public long delete(String model, String name, long expectedRevision) throws IOException {
        return revisions.write(model, name, expectedRevision, (number, current) -> {
            if (current == null) throw notFound(model, name);
            return new Experiment(model, name, number, null, Instant.now());
        }).revision();
    }

    /**
     * Follows a directory that is a source of experiments (a mounted ConfigMap; files hold
     * an {@link ExperimentSpec} in JSON), as {@link ProfileRegistry#syncFromDirectory} does for profiles.
     */
    public SourceSync syncFromDirectory(Path dir, SourceDirectory.Synced previous, SourceCheck<ExperimentSpec> check) throws IOException {
        return SourceDirectory.sync(SourceDirectory.read(dir, ExperimentSpec.class, JSON, "experiment", check), previous, new SourceDirectory.Target<>() {
            public Optional<ExperimentSpec> current(String model, String name) {
                return latest(model, name).map(Experiment::spec);
            }

            public void write(String model, String name, ExperimentSpec spec) throws IOException {
                put(model, name, spec, currentRevision(model, name));
            }

            public void remove(String model, String name) throws IOException {
                delete(model, name, currentRevision(model, name));
            }
        }, "experiment");
    }

    public Optional<Experiment> latest(String model, String name) {
        return revisions.latest(model, name);
    }

    public Optional<Experiment> revision(String model, String name, long revision) {
        return revisions.revision(model, name, revision);
    }

    public long currentRevision(String model, String name) {
        return revisions.currentRevision(model, name);
    }

    /** The latest live revision of every experiment of one model ({@code null} or "" for all), sorted. */
    public List<Experiment> list(String model) {
        return revisions.list(model);
    }

    /** Every new revision, from this process or (shared store) another replica, once each, in order within each name. */
    public void subscribe(Consumer<Experiment> listener) {
        revisions.subscribe(listener);
    }

    public RevisionStore.Health health() {
        return revisions.health();
    }

    @Override
    public void close() {
        revisions.close();
    }

    private static ProfileException notFound(String model, String name) {
        return new ProfileException("name", "experiment '" + name + "' of model '" + model + "' not found");
    }
}
