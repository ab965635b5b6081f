package io.headgate.steer;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A directory a registry follows, a read-only source (a mounted ConfigMap): files
 * {@code <model>/<name>.json}, or flat {@code <model>__<name>.json} since a ConfigMap mounts its
 * keys as files of one directory; kubelet's own {@code ..data} entries are skipped.
 */
public final class SourceDirectory {
    private SourceDirectory() {
    }

    private static final Logger LOG = Logger.getLogger(SourceDirectory.class);

    /** What a sync writes through: the registry's latest live value, and revisions expecting the current one. */
    interface Target<V> {
        Optional<V> current(String model, String name);

        void write(String model, String name, V value) throws IOException;

        void remove(String model, String name) throws IOException;
    }

    /**
     * A directory's entries that passed the checks, every (model, name) it holds (passed, deferred or
     * refused for their content), and the files refused.
     */
    record Listing<V>(Map<List<String>, V> entries, Set<List<String>> held, List<SourceRejection> rejected) {
    }

    /**
     * Reads every {@code <model>/<name>.json} and {@code <model>__<name>.json}; {@code what} names the
     * kind. A file with invalid names, that is not JSON of {@code type}'s shape, or that {@code check}
     * refuses is listed as rejected and the rest is read on.
     */
    static <V> Listing<V> read(Path dir, Class<V> type, ObjectMapper json, String what, SourceCheck<V> check) throws IOException {
        Listing<V> out = new Listing<>(new LinkedHashMap<>(), new HashSet<>(), new ArrayList<>());
        if (!Files.isDirectory(dir)) return out;
        for (Path entry : RevisionFiles.sortedEntries(dir)) {
            String entryName = RevisionFiles.fileName(entry);
            if (Files.isDirectory(entry) && !entryName.startsWith(".")) {
                for (Path file : RevisionFiles.sortedEntries(entry)) readFile(file, entryName, RevisionFiles.fileName(file), type, json, what, check, out);
            } else if (entryName.contains("__")) {
                int split = entryName.indexOf("__");
                readFile(entry, entryName.substring(0, split), entryName.substring(split + 2), type, json, what, check, out);
            }
        }
        return out;
    }

    private static <V> void readFile(Path file, String model, String fileName, Class<V> type, ObjectMapper json, String what,
                                     SourceCheck<V> check, Listing<V> out) throws IOException {
        if (!fileName.endsWith(".json") || !Files.isRegularFile(file)) return;
        String name = fileName.substring(0, fileName.length() - ".json".length());
        try {
            ProfileValidator.validateModel(model);
            ProfileValidator.validateName(name);
        } catch (ProfileException e) {
            out.rejected().add(new SourceRejection(what, file, SourceRejection.NAME, e.field(), e.getMessage()));
            return;
        }
        List<String> key = List.of(model, name);
        out.held().add(key); // refused for its content, it is still there: not a deletion
        V value;
        try {
            value = json.readValue(Files.readAllBytes(file), type);
        } catch (JacksonException e) {
            out.rejected().add(new SourceRejection(what, file, SourceRejection.JSON, jsonPath(e), e.getOriginalMessage()));
            return;
        }
        try {
            if (check.check(model, name, value)) out.entries().put(key, value);
        } catch (SourceCheck.Rejected e) {
            out.rejected().add(new SourceRejection(what, file, e.reason(), e.field(), e.getMessage()));
        }
    }

    /** Where in the file Jackson failed, as a field path ("gains[0].gain"); empty for a syntax error before any field. */
    private static String jsonPath(JacksonException e) {
        if (!(e instanceof JsonMappingException m)) return "";
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference r : m.getPath()) {
            if (r.getFieldName() != null) path.append(path.isEmpty() ? "" : ".").append(r.getFieldName());
            else if (r.getIndex() >= 0) path.append('[').append(r.getIndex()).append(']');
        }
        return path.toString();
    }

    /**
     * What a directory held at a sync, as far as it was settled into the registry (written, or found
     * there already): pass it to the next sync.
     */
    public record Synced(Map<List<String>, Object> settled) {
        public static final Synced NONE = new Synced(Map.of());

        public Synced {
            settled = Map.copyOf(settled);
        }

        /** The (model, name) pairs the directory held and the registry took. */
        public Set<List<String>> names() {
            return settled.keySet();
        }
    }

    /**
     * Applies the directory's changes since the last sync: an entry that is new or changed since
     * {@code previous} becomes a new revision unless the registry holds it already; an entry that was
     * there and is gone becomes a deletion; names the directory never held are left alone, and so is
     * an entry whose file is still there but was refused or deferred (it keeps its last good revision).
     *
     * <p>Only changes are written, not every difference. Replicas sharing a registry see a ConfigMap
     * update at different moments (the kubelet refreshes each pod's mount on its own schedule); one
     * still holding the old file must not write it back over the new one. So the directory wins when
     * it changes and when a process starts (its first sync compares everything); an admin write to a
     * name the directory holds stands until then. A write that fails (a race, the store unreachable)
     * leaves the entry unsettled, and the next sync tries it again.
     */
    static <V> SourceSync sync(Listing<V> listing, Synced previous, Target<V> target, String what) throws IOException {
        Map<List<String>, Object> settled = new HashMap<>();
        for (Map.Entry<List<String>, V> e : listing.entries().entrySet()) {
            String model = e.getKey().get(0), name = e.getKey().get(1);
            boolean unchanged = e.getValue().equals(previous.settled().get(e.getKey()));
            if (unchanged || target.current(model, name).filter(e.getValue()::equals).isPresent()) {
                settled.put(e.getKey(), e.getValue());
                continue;
            }
            if (attempt(() -> target.write(model, name, e.getValue()), what, model, name)) settled.put(e.getKey(), e.getValue());
            else if (previous.settled().containsKey(e.getKey())) settled.put(e.getKey(), previous.settled().get(e.getKey()));
        }
        for (Map.Entry<List<String>, Object> before : previous.settled().entrySet()) {
            List<String> key = before.getKey();
            if (listing.entries().containsKey(key)) continue;
            if (listing.held().contains(key)) { // still there, refused or deferred for now: not a deletion
                settled.put(key, before.getValue());
                continue;
            }
            if (target.current(key.get(0), key.get(1)).isEmpty()) continue;
            if (!attempt(() -> target.remove(key.get(0), key.get(1)), what, key.get(0), key.get(1))) settled.put(key, before.getValue());
        }
        return new SourceSync(new Synced(settled), List.copyOf(listing.rejected()));
    }

    private interface Change {
        void apply() throws IOException;
    }

    /** One write of a sync; false when it must be tried again at the next sync. */
    private static boolean attempt(Change change, String what, String model, String name) throws IOException {
        try {
            change.apply();
            return true;
        } catch (StaleRevisionException raced) {
            LOG.debugf("%s %s/%s changed while syncing; the next sync settles it", what, model, name);
        } catch (RegistryUnavailableException down) {
            LOG.debugf("%s %s/%s not synced, the registry is unreachable: %s", what, model, name, down.getMessage());
        }
        return false;
    }
}
