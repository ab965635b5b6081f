package io.headgate.testing.counter;

/** A counter stream's result: the final count. */
public record CounterResult(long counter) {
}
