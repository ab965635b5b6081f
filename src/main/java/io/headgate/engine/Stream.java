package io.headgate.engine;

import io.headgate.steer.Steering;
import org.jboss.logging.Logger;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One stream's kind-independent state — its steering (current and pending), credit, slot and
 * timings — and its kind's state {@code S}, which belongs to the scheduler's workload. Fields
 * without {@code volatile} are touched by the scheduler thread only; event emission is serialised
 * on the stream, so a Steer rejected on a request thread cannot interleave with a step's output.
 */
public final class Stream<S, O, F> {

    private static final Logger LOG = Logger.getLogger(Stream.class);

    /** A steering change waiting for the next step; {@code reason} is "steer" or "follow". */
    record PendingSteering(Steering steering, boolean recompute, String reason) {
    }

    private final String id;
    private final S state;
    private final StreamSink<O, F> sink;
    private final EngineMetrics.ModelMeters meters;
    private final int creditWindow;
    private final String arm;
    private final boolean background;
    private final AtomicReference<PendingSteering> pending = new AtomicReference<>();
    final AtomicInteger inbound = new AtomicInteger(); // messages posted, not yet delivered
    private volatile long consumed;
    private volatile boolean cancelled;
    private volatile long lastActivityNanos;
    private boolean closed; // guarded by this

    private Steering steering;
    private int produced;
    int slot = -1;
    boolean runnable;   // in the current step
    int pausedSteps;    // steps computed while it sat paused inside the step's span
    final long submittedNanos = System.nanoTime();
    long admittedNanos;
    private long firstOutputNanos;
    private long lastOutputNanos;

    Stream(String id, S state, Steering steering, int creditWindow, String arm, boolean background, StreamSink<O, F> sink,
           EngineMetrics.ModelMeters meters) {
        this.id = id;
        this.state = state;
        this.steering = steering;
        this.creditWindow = creditWindow;
        this.arm = arm;
        this.background = background;
        this.sink = sink;
        this.meters = meters;
        this.lastActivityNanos = submittedNanos;
    }

    public String id() {
        return id;
    }

    public S state() {
        return state;
    }

    public Steering steering() {
        return steering;
    }

    /** The slot it holds, or -1 before admission and after release. */
    public int slot() {
        return slot;
    }

    /** Outputs emitted so far; the index of the next one. */
    public int produced() {
        return produced;
    }

    /** The A/B arm this stream was assigned to, or "none". */
    public String arm() {
        return arm;
    }

    /** An internal low-priority stream (canaries), kept out of live metrics. */
    public boolean background() {
        return background;
    }

    public boolean cancelled() {
        return cancelled;
    }

    void cancel() {
        cancelled = true;
    }

    synchronized boolean closed() {
        return closed;
    }

    /** Out of credit: the client has not acknowledged enough outputs to allow another. */
    boolean outOfCredit() {
        return creditWindow > 0 && produced - consumed >= creditWindow;
    }

    void acknowledge(long total) {
        if (total > consumed) consumed = Math.min(total, Integer.MAX_VALUE);
    }

    /** The client did something (acknowledged, steered, sent a message): the stream is not idle. */
    void touch() {
        lastActivityNanos = System.nanoTime();
    }

    long lastActivityNanos() {
        return lastActivityNanos;
    }

    void requestSteering(PendingSteering change) {
        pending.set(change); // only the latest matters: a burst of Steer messages cannot pile up
    }

    PendingSteering takePendingSteering() {
        return pending.getAndSet(null);
    }

    void applySteering(Steering next) {
        steering = next;
    }

    /** Emits one output event (a token, a denoising step, a forecast) and records its timing. */
    public void emitOutput(O value) {
        long now = System.nanoTime();
        if (produced == 0) {
            firstOutputNanos = now;
            if (!background) meters.firstOutput(steering, arm, now - submittedNanos);
        } else if (!background) {
            meters.interOutput(steering, arm, now - lastOutputNanos);
        }
        lastOutputNanos = now;
        lastActivityNanos = now;
        produced++;
        emit(new StreamEvent.Output<>(value));
    }

    /** Emits an event unless the stream has ended. A sink that throws ends this stream, not the step. */
    public synchronized void emit(StreamEvent<O, F> event) {
        if (closed) return;
        try {
            sink.event(event);
        } catch (RuntimeException e) {
            LOG.errorf(e, "stream %s: delivering an event failed", id);
            fault("delivery");
        }
    }

    /** Ends the stream with the kind's result as its final event. */
    public void finish(F result) {
        finish(new StreamEvent.Ending.Completed<>(result));
    }

    synchronized void finish(StreamEvent.Ending<F> ending) {
        if (closed) return;
        long now = System.nanoTime();
        double queue = admittedNanos == 0 ? 0 : (admittedNanos - submittedNanos) / 1e9;
        double first = firstOutputNanos == 0 ? 0 : (firstOutputNanos - submittedNanos) / 1e9;
        emit(new StreamEvent.Finished<>(ending, new StreamEvent.Summary(produced, queue, first, (now - submittedNanos) / 1e9)));
        if (closed) return; // the final event could not be delivered
        closed = true;
        if (!background) meters.finished(steering, arm, now - submittedNanos); // canaries stay out of live latency
        try {
            sink.complete();
        } catch (RuntimeException e) {
            LOG.errorf(e, "stream %s: completing the call failed", id);
        }
    }

    /** Ends the stream on a server fault (already logged by the caller): the client sees a stable message. */
    synchronized void fault(String phase) {
        if (closed) return;
        closed = true;
        try {
            sink.fail(new Fault(id, phase));
        } catch (RuntimeException e) {
            LOG.errorf(e, "stream %s: reporting a fault failed", id);
        }
    }

    /** Closes without a final event (the client has gone). */
    synchronized void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return "stream " + id;
    }
}
