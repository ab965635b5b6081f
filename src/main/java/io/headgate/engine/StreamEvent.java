package io.headgate.engine;

import io.headgate.steer.SteeringTag;

/** What a stream tells its client. The API layer maps these to protobuf; the engine never sees protobuf. */
public interface StreamEvent {

    /** {@code arm}: the A/B arm the stream was assigned, "none" outside experiments. */
    record Started(String streamId, String model, SteeringTag steering, int promptTokens, boolean following, String arm) implements StreamEvent {
    }

    /** A steering change took effect: every output from {@code fromIndex} on is computed under it. */
    record SteeringApplied(SteeringTag steering, int fromIndex, boolean reprefilled, String reason) implements StreamEvent {
    }

    /** A Steer that could not be applied; the stream goes on unchanged. */
    record SteeringRejected(String field, String reason) implements StreamEvent {
    }

    enum FinishReason { EOS, STOP, MAX_TOKENS, MAX_LENGTH, SHUTDOWN }

    record Finished(FinishReason reason, int promptTokens, int completionTokens, double queueSeconds,
                    double timeToFirstTokenSeconds, double totalSeconds, String text) implements StreamEvent {
    }
}
