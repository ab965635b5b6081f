package io.headgate.steer;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A directory a registry follows as the source of truth (a mounted ConfigMap): files
 * {@code <model>/<name>.json}, or flat {@code <model>__<name>.json} since a ConfigMap mounts its
 * keys as files of one directory; kubelet's own {@code ..data} entries are skipped.
 */
final class SourceDirectory {
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
     * New or changed entries become new revisions; entries there at the last sync ({@code previous})
     * and gone now become deletions; names the directory never held are left alone, and so are
     * entries whose file is still there but was refused or deferred.
     */
    static <V> SourceSync sync(Listing<V> listing, Set<List<String>> previous, Target<V> target, String what) throws IOException {
        for (Map.Entry<List<String>, V> e : listing.entries().entrySet()) {
            String model = e.getKey().get(0), name = e.getKey().get(1);
            if (target.current(model, name).filter(e.getValue()::equals).isPresent()) continue;
            try {
                target.write(model, name, e.getValue());
            } catch (StaleRevisionException raced) {
                LOG.debugf("%s %s/%s changed while syncing; the next sync settles it", what, model, name);
            }
        }
        for (List<String> gone : previous) {
            if (listing.held().contains(gone) || target.current(gone.get(0), gone.get(1)).isEmpty()) continue;
            try {
                target.remove(gone.get(0), gone.get(1));
            } catch (StaleRevisionException raced) {
                LOG.debugf("%s %s/%s changed while syncing; the next sync settles it", what, gone.get(0), gone.get(1));
            }
        }
        return new SourceSync(Set.copyOf(listing.held()), List.copyOf(listing.rejected()));
    }
}
