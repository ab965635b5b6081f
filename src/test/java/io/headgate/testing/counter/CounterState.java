package io.headgate.testing.counter;

import java.util.concurrent.CountDownLatch;

/**
 * One stream of the test-only "counter" kind: it owns {@code rows} rows per step, counts steps
 * (client messages add to the count between steps), and can be told to fail at a chosen point.
 */
public final class CounterState {
    final int rows;
    final int steps;
    final boolean stepsOnMessage;
    long counter;
    boolean hasMessage;
    final double[] values;      // its rows' outputs in the last forward pass
    /** The messages it received, in the order the workload saw them. */
    public final java.util.List<Long> received = new java.util.ArrayList<>();
    // fault injection
    boolean failAdmit;
    boolean poisonForward;
    int failCollectAt = -1;
    CountDownLatch longAdmit;   // admission waits on it (a long prefill) until released or interrupted

    public CounterState(int rows, int steps, boolean stepsOnMessage) {
        if (rows <= 0 || rows > CounterWorkload.ROWS_PER_STREAM) throw new IllegalArgumentException("rows must be in 1.." + CounterWorkload.ROWS_PER_STREAM);
        if (steps <= 0) throw new IllegalArgumentException("steps must be positive");
        this.rows = rows;
        this.steps = steps;
        this.stepsOnMessage = stepsOnMessage;
        this.values = new double[rows];
    }

    public CounterState failingAdmission() {
        failAdmit = true;
        return this;
    }

    public CounterState poisoningItsForwardPass() {
        poisonForward = true;
        return this;
    }

    public CounterState failingOutputsAt(int index) {
        failCollectAt = index;
        return this;
    }

    /** Admission blocks until {@code latch} opens or the workload is interrupted. */
    public CounterState admittedSlowly(CountDownLatch latch) {
        longAdmit = latch;
        return this;
    }
}
