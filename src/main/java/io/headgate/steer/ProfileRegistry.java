package io.headgate.steer;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Persistent, versioned profiles, scoped per model: (model, name) → revisions 1, 2, 3, … Every
 * change is a new revision, written once and never changed; a deletion is a revision too, so
 * numbering stays monotonic and pinned revisions stay readable.
 *
 * <p>Where revisions live is a {@link RevisionStore}: files under one directory (the default, one
 * machine) or etcd shared by every replica. Either way everything is held in memory: reads happen on
 * every stream start and never touch the store.
 */
public final class ProfileRegistry implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Revisions<Profile> revisions;

    /** A registry on files under {@code dir}, loaded before this returns. */
    public ProfileRegistry(Path dir) throws IOException {
        this(new FileRevisionStore<>(dir, RevisionCodec.PROFILES));
    }

    public ProfileRegistry(RevisionStore<Profile> store) throws IOException {
        this.revisions = new Revisions<>("profile", store);
    }

    /**
     * Stores a new revision of (model, name). {@code expectedRevision} is the current revision: 0 when the
     * profile does not exist or is deleted. Validates the names, not the spec (callers validate it
     * against the model). Thread-safe.
     *
     * @return the stored profile, with its new revision
     * @throws StaleRevisionException       if the current revision is not {@code expectedRevision}
     * @throws RegistryUnavailableException if the store cannot be reached
     */
    public Profile put(String model, String name, ProfileSpec spec, long expectedRevision) throws IOException {
        ProfileValidator.validateModel(model);
        ProfileValidator.validateName(name);
        Objects.requireNonNull(spec, "spec");
        return revisions.write(model, name, expectedRevision, (number, current) -> new Profile(model, name, number, spec, Instant.now()));
    }

    /** The latest revision; empty if the profile was never written or its latest revision is a deletion. */
    public Optional<Profile> latest(String model, String name) {
        return revisions.latest(model, name);
    }

    /** A pinned revision, readable even after newer revisions or a deletion; empty if never written or a deletion. */
    public Optional<Profile> revision(String model, String name, long revision) {
        return revisions.revision(model, name, revision);
    }

    /** The revision a write must expect: the latest, or 0 if the profile does not exist or is deleted. */
    public long currentRevision(String model, String name) {
        return revisions.currentRevision(model, name);
    }

    /** The latest revision of every profile that is not deleted, of one model ({@code null} or "" for all), sorted by model and name. */
    public List<Profile> list(String model) {
        return revisions.list(model);
    }

    /**
     * Records a deletion as a new revision, so that a re-created profile continues the numbering and
     * pinned revisions stay readable.
     *
     * @return the revision that records the deletion
     * @throws ProfileException        ("name") if the profile does not exist or is already deleted
     * @throws StaleRevisionException if the current revision is not {@code expectedRevision}
     */
    public long delete(String model, String name, long expectedRevision) throws IOException {
        return revisions.write(model, name, expectedRevision, (number, current) -> {
            if (current == null) throw new ProfileException("name", "profile '" + name + "' of model '" + model + "' not found");
            return new Profile(model, name, number, null, Instant.now());
        }).revision();
    }

    /**
     * Calls {@code listener} with every new revision — a put, or a deletion (a profile whose spec is
     * null) — whether this process wrote it or, on a shared store, another replica did: once each, in
     * revision order within each name. A listener that throws is logged and does not undo the write.
     */
    public void subscribe(Consumer<Profile> listener) {
        revisions.subscribe(listener);
    }

    /**
     * Installs each profile found under {@code seeds} (laid out as {@link SourceDirectory} reads it) whose (model, name)
     * has never been written; a profile an operator deleted stays deleted. Each is one create-unless-exists,
     * so replicas seeding one shared store at once install each profile once.
     *
     * @return how many profiles this call installed
     */
    public int seedFromDirectory(Path seeds) throws IOException {
        int installed = 0;
        var listing = SourceDirectory.read(seeds, ProfileSpec.class, JSON, "profile", SourceCheck.names());
        if (!listing.rejected().isEmpty()) throw new IOException("shipped " + listing.rejected().getFirst());
        for (Map.Entry<List<String>, ProfileSpec> e : listing.entries().entrySet()) {
            String model = e.getKey().get(0), name = e.getKey().get(1);
            if (revisions.createFirst(new Profile(model, name, 1, e.getValue(), Instant.now()))) installed++;
        }
        return installed;
    }

    /**
     * Follows a directory that is a read-only source (a mounted ConfigMap): a profile whose file is new
     * or changed since the last sync, and that {@code check} accepts, becomes a new revision; one whose
     * file is gone is deleted; a refused file changes nothing and is reported. See
     * {@link SourceDirectory#sync} for which wins against admin writes.
     *
     * @param previous what the last sync settled ({@link SourceDirectory.Synced#NONE} the first time)
     */
    public SourceSync syncFromDirectory(Path dir, SourceDirectory.Synced previous, SourceCheck<ProfileSpec> check) throws IOException {
        return SourceDirectory.sync(SourceDirectory.read(dir, ProfileSpec.class, JSON, "profile", check), previous, new SourceDirectory.Target<>() {
            public Optional<ProfileSpec> current(String model, String name) {
                return latest(model, name).map(Profile::spec);
            }

            public void write(String model, String name, ProfileSpec spec) throws IOException {
                put(model, name, spec, currentRevision(model, name));
            }

            public void remove(String model, String name) throws IOException {
                delete(model, name, currentRevision(model, name));
            }
        }, "profile");
    }

    /** Whether the store can be written and followed now, and where it is or why not. */
    public RevisionStore.Health health() {
        return revisions.health();
    }

    /** Runs {@code task} once the store's revisions are loaded (files: now; etcd: once first reached). */
    public void whenLoaded(Runnable task) {
        revisions.whenLoaded(task);
    }

    @Override
    public void close() {
        revisions.close();
    }
}
