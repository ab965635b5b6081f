package io.headgate.steer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.util.function.Function;

/**
 * How one kind of revision (profiles, experiments) is written to a store and read back: pretty JSON
 * that repeats its own model, name and revision, so a revision found under the wrong file or key is
 * caught when it is read.
 */
public final class RevisionCodec<R extends Revisioned> {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public static final RevisionCodec<Profile> PROFILES =
            new RevisionCodec<>("profile", StoredRevision.class, StoredRevision::of, StoredRevision::toProfile);
    public static final RevisionCodec<Experiment> EXPERIMENTS =
            new RevisionCodec<>("experiment", StoredExperiment.class, StoredExperiment::of, StoredExperiment::toExperiment);

    private final String kind;
    private final Function<R, Object> toStored;
    private final Reader<R> reader;

    private interface Reader<R> {
        R read(byte[] bytes) throws IOException;
    }

    private <S> RevisionCodec(String kind, Class<S> stored, Function<R, S> toStored, Function<S, R> fromStored) {
        this.kind = kind;
        this.toStored = toStored::apply;
        this.reader = bytes -> fromStored.apply(JSON.readValue(bytes, stored));
    }

    /** "profile" or "experiment": names the kind in messages; its plural names the kind's place in a shared store. */
    public String kind() {
        return kind;
    }

    public byte[] encode(R entry) throws IOException {
        return JSON.writeValueAsBytes(toStored.apply(entry));
    }

    /**
     * Reads a revision stored as revision {@code revision} of (model, name) at {@code where} (a file, a
     * key), checking that it says so itself.
     */
    public R decode(byte[] bytes, String model, String name, long revision, String where) throws IOException {
        R entry;
        try {
            entry = reader.read(bytes);
        } catch (IOException | RuntimeException e) {
            // written whole by construction, so this is damage from outside: stop rather than serve an older revision
            throw new IOException("cannot read " + kind + " revision " + where + ": " + e.getMessage(), e);
        }
        if (!entry.model().equals(model) || !entry.name().equals(name) || entry.revision() != revision) {
            throw new IOException(where + " holds revision " + entry.revision() + " of " + entry.model() + "/" + entry.name()
                    + ", not what its place says");
        }
        return entry;
    }
}
