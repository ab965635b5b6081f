package io.headgate.engine;

import io.headgate.steer.Steering;

import java.util.concurrent.atomic.AtomicReference;

/**
 * One generation's kind-independent state: its steering (current and pending), its credit, its
 * slot and timings. The kind-specific part ({@link #work}) belongs to the scheduler's workload.
 * Fields without {@code volatile} are touched by the scheduler thread only.
 */
public final class Stream {

    /** A steering change waiting for the next step; {@code reason} is "steer" or "follow". */
    record PendingSteering(Steering steering, boolean reprefill, String reason) {
    }

    private final String id;
    private final Object work;
    private final StreamSink sink;
    private final EngineMetrics.ModelMeters meters;
    private final int creditWindow;
    private final int promptTokens;
    private final String arm;
    private final AtomicReference<PendingSteering> pending = new AtomicReference<>();
    private volatile long consumed;
    private volatile boolean cancelled;
    private boolean closed;

    private Steering steering;
    private int produced;
    int slot = -1;
    boolean background; // an internal low-priority stream (canaries)
    final long submittedNanos = System.nanoTime();
    long admittedNanos;
    private long firstOutputNanos;
    private long lastOutputNanos;

    Stream(String id, Object work, Steering steering, int promptTokens, int creditWindow, String arm, StreamSink sink,
           EngineMetrics.ModelMeters meters) {
        this.id = id;
        this.arm = arm;
        this.work = work;
        this.steering = steering;
        this.promptTokens = promptTokens;
        this.creditWindow = creditWindow;
        this.sink = sink;
        this.meters = meters;
    }

    public String id() {
        return id;
    }

    public <W> W work(Class<W> type) {
        return type.cast(work);
    }

    public Steering steering() {
        return steering;
    }

    /** Outputs emitted so far; the index of the next one. */
    public int produced() {
        return produced;
    }

    public int promptTokens() {
        return promptTokens;
    }

    /** The A/B arm this stream was assigned to, or "none". */
    public String arm() {
        return arm;
    }

    public boolean cancelled() {
        return cancelled;
    }

    void cancel() {
        cancelled = true;
    }

    boolean closed() {
        return closed;
    }

    /** Out of credit: the client has not acknowledged enough outputs to allow another. */
    boolean outOfCredit() {
        return creditWindow > 0 && produced - consumed >= creditWindow;
    }

    void acknowledge(long total) {
        if (total > consumed) consumed = Math.min(total, Integer.MAX_VALUE);
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

    /** Emits one output event (a token, a denoising step, a forecast chunk) and records its timing. */
    public void emitOutput(StreamEvent event) {
        long now = System.nanoTime();
        if (produced == 0) {
            firstOutputNanos = now;
            if (!background) meters.firstOutput(steering, arm, now - submittedNanos);
        } else if (!background) {
            meters.interOutput(steering, arm, now - lastOutputNanos);
        }
        lastOutputNanos = now;
        produced++;
        emit(event);
    }

    /** Records the measured effect of this stream's steering on one output. */
    public void recordEffect(io.headgate.effect.Effect effect) {
        if (!background) meters.effect(steering, arm, effect);
    }

    public synchronized void emit(StreamEvent event) {
        if (!closed) sink.event(event);
    }

    /** Emits the final event and closes the stream; later events are dropped. */
    public synchronized void finish(StreamEvent.FinishReason reason, String text) {
        if (closed) return;
        long now = System.nanoTime();
        double queue = admittedNanos == 0 ? 0 : (admittedNanos - submittedNanos) / 1e9;
        double ttft = firstOutputNanos == 0 ? 0 : (firstOutputNanos - submittedNanos) / 1e9;
        sink.event(new StreamEvent.Finished(reason, promptTokens, produced, queue, ttft, (now - submittedNanos) / 1e9, text));
        closed = true;
        if (!background) meters.finished(steering, arm, now - submittedNanos); // canaries stay out of live latency
        sink.complete();
    }

    synchronized void fail(Throwable error) {
        if (closed) return;
        closed = true;
        sink.fail(error);
    }

    /** Closes without a final event (the client has gone). */
    synchronized void close() {
        closed = true;
    }
}
