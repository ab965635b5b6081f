package io.headgate.engine.forecast;

/** What a client sends a running forecast stream besides Steer and Ack. */
public sealed interface ForecastMessage {

    /** The next values of the series, in order (NaN for missing). */
    record Observe(double[] values) implements ForecastMessage {
    }

    /** No more observations: the stream ends with its final scores. */
    record Close() implements ForecastMessage {
    }
}
