package io.headgate.steer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Persistent, versioned profiles, scoped per model: (model, name) → revisions 1, 2, 3, …
 *
 * <p>Each revision is a file {@code <dir>/<model>/<name>/<revision>.json}, written once and never
 * changed. A write goes to a temp file in the same directory, is fsynced, and is published with a hard
 * link to its final name; the link fails if that revision already exists, so two writers (threads,
 * or processes sharing the directory) can never both create the same revision, and a crash leaves at
 * worst a temp file that is never read. A deletion is a revision too, so numbering stays monotonic.
 *
 * <p>Everything is also held in memory, loaded at construction: reads happen on every stream start
 * and never touch the disk.
 */
public final class ProfileRegistry {

    private static final Logger LOG = Logger.getLogger(ProfileRegistry.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;
    /** Every revision; a null spec marks a deletion. */
    private final RevisionIndex<Profile> index = new RevisionIndex<>();
    /** Serialises writers apart from the index lock, so an fsync never blocks readers and listeners hear revisions in order. */
    private final ReentrantLock writes = new ReentrantLock();
    private final List<Consumer<Profile>> listeners = new CopyOnWriteArrayList<>();

    private record Key(String model, String name) {
    }

    public ProfileRegistry(Path dir) throws IOException {
        this.dir = dir;
        createDirectory(dir);
        try (DirectoryStream<Path> models = Files.newDirectoryStream(dir, Files::isDirectory)) {
            for (Path modelDir : models) {
                String model = fileName(modelDir);
                if (!validName(model)) continue;
                try (DirectoryStream<Path> names = Files.newDirectoryStream(modelDir, Files::isDirectory)) {
                    for (Path nameDir : names) {
                        String name = fileName(nameDir);
                        if (!validName(name)) continue;
                        NavigableMap<Long, Profile> history = readHistory(model, name, nameDir);
                        index.replace(model, name, history);
                    }
                }
            }
        }
    }

    /**
     * Stores a new revision of (model, name). {@code expectedRevision} is the current revision: 0 when the
     * profile does not exist or is deleted. Validates the names, not the spec (callers validate it
     * against the model). Thread-safe.
     *
     * @return the stored profile, with its new revision
     * @throws StaleRevisionException if the current revision is not {@code expectedRevision}
     */
    public Profile put(String model, String name, ProfileSpec spec, long expectedRevision) throws IOException {
        ProfileValidator.validateModel(model);
        ProfileValidator.validateName(name);
        Objects.requireNonNull(spec, "spec");
        writes.lock();
        try {
            Key key = new Key(model, name);
            long current = currentRevision(model, name);
            if (current != expectedRevision) throw new StaleRevisionException(model, name, expectedRevision, current);
            Profile profile = new Profile(model, name, lastRevision(key) + 1, spec, Instant.now());
            publish(key, profile, expectedRevision);
            notifyListeners(profile);
            return profile;
        } finally {
            writes.unlock();
        }
    }

    /** The latest revision; empty if the profile was never written or its latest revision is a deletion. */
    public Optional<Profile> latest(String model, String name) {
        return index.latest(model, name);
    }

    /** A pinned revision, readable even after newer revisions or a deletion; empty if never written or a deletion. */
    public Optional<Profile> revision(String model, String name, long revision) {
        return index.revision(model, name, revision);
    }

    /** The revision a write must expect: the latest, or 0 if the profile does not exist or is deleted. */
    public long currentRevision(String model, String name) {
        return index.currentRevision(model, name);
    }

    /** The latest revision of every profile that is not deleted, of one model ({@code null} or "" for all), sorted by model and name. */
    public List<Profile> list(String model) {
        return index.list(model);
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
        writes.lock();
        try {
            Key key = new Key(model, name);
            long current = currentRevision(model, name);
            if (current == 0) {
                throw new ProfileException("name", "profile '" + name + "' of model '" + model + "' not found");
            }
            if (current != expectedRevision) throw new StaleRevisionException(model, name, expectedRevision, current);
            Profile deletion = new Profile(model, name, lastRevision(key) + 1, null, Instant.now());
            publish(key, deletion, expectedRevision);
            notifyListeners(deletion);
            return deletion.revision();
        } finally {
            writes.unlock();
        }
    }

    /**
     * Calls {@code listener} after every successful put, with the new profile, and every delete, with a
     * profile whose spec is null. Calls come in revision order on the writing thread; a listener that
     * throws is logged and does not undo the write.
     */
    public void subscribe(Consumer<Profile> listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /**
     * Installs each profile found under {@code seeds} (laid out as {@link SourceDirectory} reads it) whose (model, name)
     * has never been written; a profile an operator deleted stays deleted.
     *
     * @return how many profiles were installed
     */
    public int seedFromDirectory(Path seeds) throws IOException {
        int installed = 0;
        var listing = SourceDirectory.read(seeds, ProfileSpec.class, JSON, "profile", SourceCheck.names());
        if (!listing.rejected().isEmpty()) throw new IOException("shipped " + listing.rejected().getFirst());
        for (Map.Entry<List<String>, ProfileSpec> e : listing.entries().entrySet()) {
            if (seed(new Key(e.getKey().get(0), e.getKey().get(1)), e.getValue())) installed++;
        }
        return installed;
    }

    /**
     * Makes the registry follow a directory that is the source of truth (a mounted ConfigMap): a
     * profile whose file is new or changed, and that {@code check} accepts, gets a new revision; one
     * whose file was there at the last sync ({@code previous}) and is gone is deleted. Profiles the
     * directory never held are left alone; a refused file changes nothing and is reported.
     */
    public SourceSync syncFromDirectory(Path dir, Set<List<String>> previous, SourceCheck<ProfileSpec> check) throws IOException {
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

    /** Installs one seed unless (model, name) was ever written; holding the write lock makes check and write one step. */
    private boolean seed(Key key, ProfileSpec spec) throws IOException {
        writes.lock();
        try {
            if (lastRevision(key) != 0) return false;
            put(key.model(), key.name(), spec, 0);
            return true;
        } catch (StaleRevisionException e) {
            return false; // another process sharing the directory wrote it first
        } finally {
            writes.unlock();
        }
    }

    /** The highest revision number used, deletions included; 0 if never written. */
    private long lastRevision(Key key) {
        return index.lastRevision(key.model(), key.name());
    }

    /** Writes a revision durably and atomically, then adds it to the index. Called holding {@link #writes}. */
    private void publish(Key key, Profile profile, long expectedRevision) throws IOException {
        Path nameDir = dir.resolve(key.model()).resolve(key.name());
        if (!RevisionFiles.publish(nameDir, profile.revision(), JSON.writeValueAsBytes(StoredRevision.of(profile)))) {
            // another registry on this directory took the revision: catch up with what it wrote
            NavigableMap<Long, Profile> history = readHistory(key.model(), key.name(), nameDir);
            index.replace(key.model(), key.name(), history);
            Profile last = history.isEmpty() ? null : history.lastEntry().getValue();
            long actual = last == null || last.deleted() ? 0 : last.revision();
            throw new StaleRevisionException(key.model(), key.name(), expectedRevision, actual);
        }
        index.add(profile);
    }

    private void notifyListeners(Profile profile) {
        for (Consumer<Profile> listener : listeners) {
            try {
                listener.accept(profile);
            } catch (RuntimeException e) {
                LOG.warnf(e, "profile listener failed on %s/%s revision %d", profile.model(), profile.name(), profile.revision());
            }
        }
    }

    /** Every published revision of one profile; skips temp files and removes those a crash abandoned. */
    private static NavigableMap<Long, Profile> readHistory(String model, String name, Path nameDir) throws IOException {
        return RevisionFiles.readRevisions(nameDir, (file, number) -> {
            Profile profile = readRevision(file);
            if (!profile.model().equals(model) || !profile.name().equals(name) || profile.revision() != number) {
                throw new IOException(file + " holds revision " + profile.revision() + " of " + profile.model()
                        + "/" + profile.name() + ", not what its path says");
            }
            return profile;
        });
    }

    private static Profile readRevision(Path file) throws IOException {
        try {
            return JSON.readValue(Files.readAllBytes(file), StoredRevision.class).toProfile();
        } catch (IOException | RuntimeException e) {
            // published files are complete by construction, so this is damage from outside: stop rather than serve an older revision
            throw new IOException("cannot read profile revision " + file + ": " + e.getMessage(), e);
        }
    }

    private static List<Path> sortedEntries(Path directory) throws IOException {
        return RevisionFiles.sortedEntries(directory);
    }

    private static String fileName(Path path) {
        return RevisionFiles.fileName(path);
    }

    private static boolean validName(String name) {
        try {
            ProfileValidator.validateModel(name);
            return true;
        } catch (ProfileException e) {
            return false;
        }
    }

    private static void createDirectory(Path directory) throws IOException {
        RevisionFiles.createDirectory(directory);
    }
}
