package io.headgate.engine;

import io.headgate.steer.SteeringTag;

import java.time.Duration;

/**
 * What a stream tells its client: the engine's own events, and the kind's outputs ({@code O}: a
 * token, a denoising step, a forecast) and final result ({@code F}). Each kind's API maps these to
 * protobuf with exhaustive switches; the engine never sees protobuf.
 */
public sealed interface StreamEvent<O, F> {

    /** {@code arm}: the A/B arm the stream was assigned, "none" outside experiments. */
    record Started<O, F>(String streamId, String model, SteeringTag steering, boolean following, String arm) implements StreamEvent<O, F> {
    }

    /** A steering change took effect: every output from {@code fromIndex} on is computed under it. */
    record SteeringApplied<O, F>(SteeringTag steering, int fromIndex, boolean recomputed, String reason) implements StreamEvent<O, F> {
    }

    /** A Steer that could not be applied; the stream goes on unchanged. */
    record SteeringRejected<O, F>(String field, String reason) implements StreamEvent<O, F> {
    }

    /** One output of the kind; its index is the count of outputs before it. */
    record Output<O, F>(O value) implements StreamEvent<O, F> {
    }

    /** The last event of a stream that ended normally (a fault ends it with a status instead). */
    record Finished<O, F>(Ending<F> ending, Summary summary) implements StreamEvent<O, F> {
    }

    /** Why a stream ended. */
    sealed interface Ending<F> {
        /** The kind decided the stream is done, with its result (finish reason, image, scores). */
        record Completed<F>(F result) implements Ending<F> {
        }

        /** The server is shutting down. */
        record Shutdown<F>() implements Ending<F> {
        }

        /** Neither an output nor a client message for {@code after}. */
        record IdleTimeout<F>(Duration after) implements Ending<F> {
        }
    }

    /** Timings and counts of a finished stream, in seconds from its submission. */
    record Summary(int outputs, double queueSeconds, double firstOutputSeconds, double totalSeconds) {
    }
}
