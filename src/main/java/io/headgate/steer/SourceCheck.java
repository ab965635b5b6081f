package io.headgate.steer;

/**
 * Checks one entry of a watched directory before a sync stores it, as the API's {@code Put} would
 * check the same spec. The directory's file names are checked before this is called.
 */
@FunctionalInterface
public interface SourceCheck<V> {

    /**
     * @return true to store the entry; false to leave it for a later sync (there is nothing to check
     *         it against yet, e.g. its model is still loading)
     * @throws Rejected when the entry is invalid: it is not stored and the rest of the directory syncs on
     */
    boolean check(String model, String name, V value);

    /** Accepts every well-formed entry (seeding shipped files, whose specs are checked when used). */
    static <V> SourceCheck<V> names() {
        return (model, name, value) -> true;
    }

    /**
     * Why an entry was refused: {@code reason} is one of a few fixed values (a metric label),
     * {@code field} the path of the offending part inside the file ("gains[2].head", "arms[1].profile").
     */
    final class Rejected extends RuntimeException {
        private final String reason;
        private final String field;

        public Rejected(String reason, String field, String message) {
            super(message);
            this.reason = reason;
            this.field = field;
        }

        public String reason() {
            return reason;
        }

        public String field() {
            return field;
        }
    }
}
