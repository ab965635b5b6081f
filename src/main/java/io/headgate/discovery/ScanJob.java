package io.headgate.discovery;

import io.headgate.model.ControlRow;

import java.util.List;

/**
 * A validated scan request: the model, its examples (already tokenized), the steering it runs under
 * and how heads are classified. {@code source} and {@code steeringLabel} are for the report.
 */
public record ScanJob(String model, String source, List<ScanExample> examples, ControlRow steering, String steeringLabel,
                      HeadClassifier classifier) {
    public ScanJob {
        examples = List.copyOf(examples);
        if (examples.isEmpty()) throw new IllegalArgumentException("a scan needs examples");
    }
}
