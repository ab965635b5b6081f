package io.headgate.steer;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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

    /** Every (model, name) → value the directory holds; {@code what} names the kind in errors. */
    static <V> Map<List<String>, V> read(Path dir, Class<V> type, ObjectMapper json, String what) throws IOException {
        Map<List<String>, V> out = new LinkedHashMap<>();
        if (!Files.isDirectory(dir)) return out;
        for (Path entry : RevisionFiles.sortedEntries(dir)) {
            String entryName = RevisionFiles.fileName(entry);
            if (Files.isDirectory(entry) && !entryName.startsWith(".")) {
                for (Path file : RevisionFiles.sortedEntries(entry)) readFile(file, entryName, RevisionFiles.fileName(file), type, json, what, out);
            } else if (entryName.contains("__")) {
                int split = entryName.indexOf("__");
                readFile(entry, entryName.substring(0, split), entryName.substring(split + 2), type, json, what, out);
            }
        }
        return out;
    }

    private static <V> void readFile(Path file, String model, String fileName, Class<V> type, ObjectMapper json, String what,
                                     Map<List<String>, V> out) throws IOException {
        if (!fileName.endsWith(".json") || !Files.isRegularFile(file)) return;
        String name = fileName.substring(0, fileName.length() - ".json".length());
        try {
            ProfileValidator.validateModel(model);
            ProfileValidator.validateName(name);
            out.put(List.of(model, name), json.readValue(Files.readAllBytes(file), type));
        } catch (ProfileException e) {
            throw new ProfileException(e.field(), what + " file " + file + ": " + e.getMessage());
        } catch (JacksonException e) {
            throw new IOException(what + " file " + file + " is not a valid " + what + ": " + e.getOriginalMessage(), e);
        }
    }

    /**
     * New or changed entries become new revisions; entries there at the last sync ({@code previous})
     * and gone now become deletions; names the directory never held are left alone.
     *
     * @return the names the directory holds now: pass them as {@code previous} next time
     */
    static <V> Set<List<String>> sync(Map<List<String>, V> wanted, Set<List<String>> previous, Target<V> target, String what)
            throws IOException {
        for (Map.Entry<List<String>, V> e : wanted.entrySet()) {
            String model = e.getKey().get(0), name = e.getKey().get(1);
            if (target.current(model, name).filter(e.getValue()::equals).isPresent()) continue;
            try {
                target.write(model, name, e.getValue());
            } catch (StaleRevisionException raced) {
                LOG.debugf("%s %s/%s changed while syncing; the next sync settles it", what, model, name);
            }
        }
        for (List<String> gone : previous) {
            if (wanted.containsKey(gone) || target.current(gone.get(0), gone.get(1)).isEmpty()) continue;
            try {
                target.remove(gone.get(0), gone.get(1));
            } catch (StaleRevisionException raced) {
                LOG.debugf("%s %s/%s changed while syncing; the next sync settles it", what, gone.get(0), gone.get(1));
            }
        }
        return new HashSet<>(wanted.keySet());
    }
}
