package io.headgate.discovery;

import java.time.Instant;
import java.util.List;

/**
 * A finished scan, kept so a profile can be suggested from it later.
 *
 * @param source   where the examples came from, e.g. "builtin brackets" or "inline"
 * @param steering the steering the scan ran under, e.g. "identity@0"
 * @param classes  per head, row-major like the tables
 */
public record ScanReport(String scanId, String model, String source, String steering, Instant finishedAt, HeadTables tables,
                         HeadClassifier classifier, List<HeadClass> classes) {

    public ScanReport {
        classes = List.copyOf(classes);
        if (classes.size() != tables.layers() * tables.heads()) throw new IllegalArgumentException("one class per head");
    }

    public static ScanReport of(String scanId, String model, String source, String steering, HeadTables tables,
                                HeadClassifier classifier) {
        return new ScanReport(scanId, model, source, steering, Instant.now(), tables, classifier, List.of(classifier.classify(tables)));
    }

    public String thresholds() {
        return classifier.describe();
    }
}
