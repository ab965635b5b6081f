package io.headgate.steer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Persistent, versioned A/B experiments, scoped per model: (model, name) → revisions 1, 2, 3, …,
 * stored like profiles ({@link RevisionFiles}: one file per revision, published atomically with a
 * hard link, a deletion is a revision) with the same optimistic concurrency: a write names the
 * revision it expects and fails with {@link StaleRevisionException} if another came first.
 * Everything is held in memory; reads never touch the disk.
 */
public final class ExperimentRegistry {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;
    private final RevisionIndex<Experiment> index = new RevisionIndex<>();
    private final ReentrantLock writes = new ReentrantLock();

    private record Key(String model, String name) {
    }

    public ExperimentRegistry(Path dir) throws IOException {
        this.dir = dir;
        RevisionFiles.createDirectory(dir);
        for (Path modelDir : RevisionFiles.sortedEntries(dir)) {
            String model = RevisionFiles.fileName(modelDir);
            if (!Files.isDirectory(modelDir) || !validName(model)) continue;
            for (Path nameDir : RevisionFiles.sortedEntries(modelDir)) {
                String name = RevisionFiles.fileName(nameDir);
                if (!Files.isDirectory(nameDir) || !validName(name)) continue;
                NavigableMap<Long, Experiment> history = readHistory(model, name, nameDir);
                index.replace(model, name, history);
            }
        }
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
        return write(new Key(model, name), spec, expectedRevision);
    }

    /**
     * Ends an experiment in favour of one arm: a new revision whose only arm is {@code arm}, weight 1.
     *
     * @throws ProfileException        ("name") if the experiment does not exist, ("arm") if it has no such arm
     * @throws StaleRevisionException if the current revision is not {@code expectedRevision}
     */
    public Experiment promote(String model, String name, String arm, long expectedRevision) throws IOException {
        writes.lock();
        try {
            Experiment current = latest(model, name).orElseThrow(() -> notFound(model, name));
            if (current.revision() != expectedRevision) {
                throw new StaleRevisionException("experiment", model, name, expectedRevision, current.revision());
            }
            Arm chosen = current.spec().arm(arm);
            if (chosen == null) throw new ProfileException("arm", "experiment '" + name + "' has no arm '" + arm + "'");
            ExperimentSpec promoted = new ExperimentSpec(current.spec().description(), List.of(new Arm(chosen.name(), chosen.profile(), 1.0)));
            return write(new Key(model, name), promoted, expectedRevision);
        } finally {
            writes.unlock();
        }
    }

    /**
     * Records a deletion as a new revision.
     *
     * @return the revision that records it
     */
    public long delete(String model, String name, long expectedRevision) throws IOException {
        writes.lock();
        try {
            if (currentRevision(model, name) == 0) throw notFound(model, name);
            return write(new Key(model, name), null, expectedRevision).revision();
        } finally {
            writes.unlock();
        }
    }

    /**
     * Follows a directory that is the source of truth for experiments (a mounted ConfigMap; files hold
     * an {@link ExperimentSpec} in JSON), as {@link ProfileRegistry#syncFromDirectory} does for profiles.
     */
    public SourceSync syncFromDirectory(Path dir, Set<List<String>> previous, SourceCheck<ExperimentSpec> check) throws IOException {
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
        return index.latest(model, name);
    }

    public Optional<Experiment> revision(String model, String name, long revision) {
        return index.revision(model, name, revision);
    }

    public long currentRevision(String model, String name) {
        return index.currentRevision(model, name);
    }

    /** The latest live revision of every experiment of one model ({@code null} or "" for all), sorted. */
    public List<Experiment> list(String model) {
        return index.list(model);
    }

    /** Checks the expected revision and publishes the next one ({@code spec} null: a deletion). */
    private Experiment write(Key key, ExperimentSpec spec, long expectedRevision) throws IOException {
        writes.lock();
        try {
            long current = currentRevision(key.model(), key.name());
            if (current != expectedRevision) throw new StaleRevisionException("experiment", key.model(), key.name(), expectedRevision, current);
            Experiment next = new Experiment(key.model(), key.name(), index.lastRevision(key.model(), key.name()) + 1, spec, Instant.now());
            Path nameDir = dir.resolve(key.model()).resolve(key.name());
            if (!RevisionFiles.publish(nameDir, next.revision(), JSON.writeValueAsBytes(StoredExperiment.of(next)))) {
                // another registry on this directory took the revision: catch up with what it wrote
                index.replace(key.model(), key.name(), readHistory(key.model(), key.name(), nameDir));
                throw new StaleRevisionException("experiment", key.model(), key.name(), expectedRevision, currentRevision(key.model(), key.name()));
            }
            index.add(next);
            return next;
        } finally {
            writes.unlock();
        }
    }

    private static NavigableMap<Long, Experiment> readHistory(String model, String name, Path nameDir) throws IOException {
        return RevisionFiles.readRevisions(nameDir, (file, number) -> {
            Experiment e;
            try {
                e = JSON.readValue(Files.readAllBytes(file), StoredExperiment.class).toExperiment();
            } catch (IOException | RuntimeException ex) {
                throw new IOException("cannot read experiment revision " + file + ": " + ex.getMessage(), ex);
            }
            if (!e.model().equals(model) || !e.name().equals(name) || e.revision() != number) {
                throw new IOException(file + " holds revision " + e.revision() + " of " + e.model() + "/" + e.name()
                        + ", not what its path says");
            }
            return e;
        });
    }

    private static ProfileException notFound(String model, String name) {
        return new ProfileException("name", "experiment '" + name + "' of model '" + model + "' not found");
    }

    private static boolean validName(String name) {
        try {
            ProfileValidator.validateModel(name);
            return true;
        } catch (ProfileException e) {
            return false;
        }
    }
}
