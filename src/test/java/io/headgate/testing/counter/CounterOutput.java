package io.headgate.testing.counter;

import io.headgate.steer.SteeringTag;

/** One counter step: the count after it, each row's output (its control row's first gain × the count before), its steering. */
public record CounterOutput(int index, long counter, double[] rowValues, SteeringTag steering) {
}
