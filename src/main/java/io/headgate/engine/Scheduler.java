package io.headgate.engine;

import io.headgate.steer.Steering;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One model's step loop, on its own thread: continuous batching over the workload's slots, for any
 * kind of workload.
 *
 * <p>Each turn: run posted commands (a stream's acknowledgements, steering requests and other
 * client messages, in arrival order), end idle streams, drop finished and cancelled ones, admit waiting streams into
 * free slots, mark which streams may run (not out of credit, and ready by the workload's measure),
 * apply their pending steering, then compute one step for exactly those streams. Streams hold
 * their slot while paused: a short pause costs nothing, and a stream paused for many steps inside
 * the span of running ones is swapped behind them once. Other threads only post commands and set
 * flags; all slot state lives here. A fault ends the streams it touched and the loop goes on; when
 * nothing can progress, the thread sleeps until a command arrives.
 */
public final class Scheduler<S, I, O, F> implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Scheduler.class);
    private static final Runnable WAKE = () -> { };
    /** How long an idle scheduler sleeps between checks for idle streams. */
    private static final long IDLE_POLL_MILLIS = 200;
    /** The arm label of streams outside any experiment. */
    public static final String NO_ARM = "none";

    /**
     * @param maxWaiting         streams that may queue for a slot before new ones are refused
     * @param admissionBudget    admission cost (in the kind's units, e.g. prompt tokens) admitted per turn
     *                           while other streams run; at least one stream is always admitted. Bounds how
     *                           long a burst of new streams stalls the running ones
     * @param maxBackground      internal low-priority streams (canaries, evaluations) that may queue
     * @param idleTimeout        a stream with neither an output nor a client message for this long ends;
     *                           zero: never
     * @param maxPendingMessages client messages one stream may have waiting for the next step boundary
     * @param compactAfterPausedSteps steps a stream may sit paused among running ones before it is
     *                           moved behind them (one copy of its slot, instead of a wasted row per step)
     */
    public record Config(int maxWaiting, int admissionBudget, int maxBackground, Duration idleTimeout, int maxPendingMessages,
                         int compactAfterPausedSteps) {
        public Config {
            if (maxWaiting < 0) throw new IllegalArgumentException("maxWaiting must be >= 0");
            if (admissionBudget <= 0) throw new IllegalArgumentException("admissionBudget must be positive");
            if (maxBackground < 0) throw new IllegalArgumentException("maxBackground must be >= 0");
            if (idleTimeout == null || idleTimeout.isNegative()) throw new IllegalArgumentException("idleTimeout must be >= 0");
            if (maxPendingMessages <= 0) throw new IllegalArgumentException("maxPendingMessages must be positive");
            if (compactAfterPausedSteps <= 0) throw new IllegalArgumentException("compactAfterPausedSteps must be positive");
        }

        public Config(int maxWaiting) {
            this(maxWaiting, 512, 4096, Duration.ZERO, 1024, 8);
        }

        public Config withIdleTimeout(Duration timeout) {
            return new Config(maxWaiting, admissionBudget, maxBackground, timeout, maxPendingMessages, compactAfterPausedSteps);
        }
    }

    private final String model;
    private final Workload<S, I, O, F> workload;
    private final Kind kind;
    private final Config config;
    private final EngineMetrics.ModelMeters meters;
    private final Thread thread;
    private final LinkedBlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>();
    private final AtomicInteger pending = new AtomicInteger();     // submitted, not yet admitted
    private final AtomicInteger active = new AtomicInteger();      // holding a slot
    private final AtomicInteger backgroundQueued = new AtomicInteger();
    private final Map<String, Steering> recentSteering = new ConcurrentHashMap<>();

    // scheduler thread only
    private final ArrayDeque<Stream<S, O, F>> waiting = new ArrayDeque<>();
    private final ArrayDeque<Stream<S, O, F>> background = new ArrayDeque<>(); // admitted only when no live stream waits
    private int backgroundActive;
    private final Stream<S, O, F>[] slots;
    private final Batch<S, O, F> batch;
    private int occupied;      // slots [0, occupied) hold streams
    private int span;          // slots [0, span) hold every stream that runs this turn
    private int runnableCount;

    private volatile boolean accepting = true;
    private volatile boolean running = true;

    @SuppressWarnings("unchecked")
    public Scheduler(String model, Workload<S, I, O, F> workload, Config config, EngineMetrics metrics) {
        this.model = model;
        this.workload = workload;
        this.kind = workload.kind();
        this.config = config;
        this.slots = (Stream<S, O, F>[]) new Stream[workload.slots()];
        this.batch = new Batch<>(workload.dimensions(), workload.maxRows());
        this.meters = metrics.forModel(model, kind, active::get, pending::get);
        this.thread = new Thread(this::loop, "headgate-scheduler-" + model);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    public String model() {
        return model;
    }

    public Kind kind() {
        return kind;
    }

    public int slots() {
        return slots.length;
    }

    public int activeStreams() {
        return active.get();
    }

    public int waitingStreams() {
        return pending.get();
    }

    /** The thread that runs every step (tests measure its CPU time). */
    public Thread thread() {
        return thread;
    }

    /** As {@link #submit(Object, Steering, int, String, StreamSink)}, outside any experiment. */
    public Stream<S, O, F> submit(S state, Steering steering, int creditWindow, StreamSink<O, F> sink) {
        return submit(state, steering, creditWindow, NO_ARM, sink);
    }

    /**
     * Queues a stream. Its {@code Started} event is emitted before this returns, so it precedes
     * every event of the stream.
     *
     * @throws Rejection EXHAUSTED past the waiting bound, UNAVAILABLE while shutting down
     */
    public Stream<S, O, F> submit(S state, Steering steering, int creditWindow, String arm, StreamSink<O, F> sink) {
        if (!accepting) throw new Rejection(Rejection.Kind.UNAVAILABLE, "", "the server is shutting down");
        int free = Math.max(0, slots.length - active.get());
        if (pending.incrementAndGet() > config.maxWaiting() + free) {
            pending.decrementAndGet();
            throw new Rejection(Rejection.Kind.EXHAUSTED, "", "model '" + model + "' has " + slots.length
                    + " slots busy and " + config.maxWaiting() + " streams waiting; retry later");
        }
        Stream<S, O, F> stream = new Stream<>(newId(""), state, steering, creditWindow, arm, false, sink, meters);
        recentSteering.put(steering.metricLabel(), steering);
        stream.emit(new StreamEvent.Started<>(stream.id(), model, steering.tag(), steering.follows() != null, arm));
        inbox.add(() -> waiting.add(stream));
        return stream;
    }

    /**
     * Queues an internal, low-priority stream (canaries, evaluations): admitted only while no live
     * stream is waiting, into at most a quarter of the slots, and not counted as waiting.
     *
     * @throws Rejection EXHAUSTED when {@code maxBackground} such streams already wait
     */
    public Stream<S, O, F> submitBackground(S state, Steering steering, StreamSink<O, F> sink) {
        if (!accepting) throw new Rejection(Rejection.Kind.UNAVAILABLE, "", "the server is shutting down");
        if (backgroundQueued.incrementAndGet() > config.maxBackground()) {
            backgroundQueued.decrementAndGet();
            throw new Rejection(Rejection.Kind.EXHAUSTED, "", "model '" + model + "' already has " + config.maxBackground()
                    + " background evaluations queued; retry later");
        }
        Stream<S, O, F> stream = new Stream<>(newId("bg-"), state, steering, 0, NO_ARM, true, sink, meters);
        inbox.add(() -> background.add(stream));
        return stream;
    }

    private String newId(String prefix) {
        return model + "-" + prefix + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1);
    }

    /** What the streams assigned to an A/B arm have done so far. */
    public EngineMetrics.ArmTotals armTotals(String arm) {
        return meters.armTotals(arm);
    }

    /** The steerings live streams have used since the last call (the latest of each profile), then forgets them. */
    public Collection<Steering> takeRecentSteerings() {
        List<Steering> out = new ArrayList<>();
        for (String label : List.copyOf(recentSteering.keySet())) {
            Steering s = recentSteering.remove(label);
            if (s != null) out.add(s);
        }
        return out;
    }

    /** The stream switches to {@code steering} at the first step computed for it after this call. */
    public void steer(Stream<S, O, F> stream, Steering steering, boolean recompute) {
        stream.touch();
        // queued like every client message, so a Steer never overtakes a message sent before it
        inbox.add(() -> stream.requestSteering(new Stream.PendingSteering(steering, recompute, "steer")));
    }

    /** Credit: the client has consumed {@code total} outputs (applied in order with its other messages). */
    public void acknowledge(Stream<S, O, F> stream, long total) {
        stream.touch();
        inbox.add(() -> stream.acknowledge(total));
    }

    /**
     * A client message for the stream, handed to the workload at the next step boundary, after every
     * message posted before it and never while a step runs.
     *
     * @throws Rejection EXHAUSTED when {@code maxPendingMessages} of the stream's messages are still waiting
     */
    public void deliver(Stream<S, O, F> stream, I message) {
        if (stream.inbound.incrementAndGet() > config.maxPendingMessages()) {
            stream.inbound.decrementAndGet();
            throw new Rejection(Rejection.Kind.EXHAUSTED, "", config.maxPendingMessages()
                    + " messages of this stream are still waiting; wait for its outputs before sending more");
        }
        stream.touch();
        inbox.add(() -> {
            stream.inbound.decrementAndGet();
            if (stream.closed() || stream.cancelled()) return;
            try {
                workload.receive(stream, message);
            } catch (Throwable t) {
                LOG.errorf(t, "scheduler %s: %s could not take a message", model, stream);
                stream.fault("message");
            }
        });
    }

    /** The client went away: the slot is freed within one step, no more events are sent. */
    public void cancel(Stream<S, O, F> stream) {
        stream.cancel();
        inbox.add(WAKE);
    }

    /** A followed profile has a new revision: streams following {@code name} switch to it. */
    public void followed(String name, Steering next) {
        inbox.add(() -> {
            for (int i = 0; i < occupied; i++) offerFollow(slots[i], name, next);
            for (Stream<S, O, F> s : waiting) offerFollow(s, name, next);
        });
    }

    private void offerFollow(Stream<S, O, F> s, String name, Steering next) {
        if (name.equals(s.steering().follows())) s.requestSteering(new Stream.PendingSteering(next, false, "follow"));
    }

    // ------------------------------------------------------------------ the loop

    private void loop() {
        while (running) {
            try {
                runCommands(runnableCount == 0 && !canAdmit());
                if (!running) break;
                expireIdle();
                reap();
                admit();
                arrange();
                applySteering();
                if (runnableCount > 0) step();
                reap();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (Throwable t) {
                // the per-stream guards below should catch everything; this keeps the model alive if one did not
                LOG.errorf(t, "scheduler %s: turn failed", model);
            }
        }
        finishAll();
    }

    private boolean canAdmit() {
        if (occupied == slots.length) return false;
        return !waiting.isEmpty() || (!background.isEmpty() && backgroundActive < backgroundSlots());
    }

    private int backgroundSlots() {
        return Math.max(1, slots.length / 4);
    }

    /** Runs posted commands; with {@code block}, first sleeps until one arrives (or a while passes). */
    private void runCommands(boolean block) throws InterruptedException {
        Runnable command = block ? inbox.poll(IDLE_POLL_MILLIS, TimeUnit.MILLISECONDS) : inbox.poll();
        while (command != null) {
            try {
                command.run();
            } catch (Throwable t) {
                LOG.errorf(t, "scheduler %s: a command failed", model);
            }
            command = inbox.poll();
        }
    }

    /** Ends admitted streams that have neither produced nor heard from their client for the idle timeout. */
    private void expireIdle() {
        Duration timeout = config.idleTimeout();
        if (timeout.isZero()) return;
        long now = System.nanoTime();
        for (int i = 0; i < occupied; i++) {
            Stream<S, O, F> s = slots[i];
            if (now - s.lastActivityNanos() > timeout.toNanos()) s.finish(new StreamEvent.Ending.IdleTimeout<>(timeout));
        }
    }

    /** Frees the slots of streams that finished, failed or were cancelled; drops cancelled waiting streams. */
    private void reap() {
        for (int i = occupied - 1; i >= 0; i--) {
            Stream<S, O, F> s = slots[i];
            if (s.cancelled()) s.close();
            if (s.closed()) release(i);
        }
        waiting.removeIf(s -> {
            if (!s.cancelled() && !s.closed()) return false; // closed: its Started event could not be delivered
            s.close();
            pending.decrementAndGet();
            return true;
        });
        background.removeIf(s -> {
            if (!s.cancelled()) return false;
            backgroundQueued.decrementAndGet();
            return true;
        });
    }

    private void admit() {
        int budget = config.admissionBudget();
        for (int admitted = 0; occupied < slots.length; admitted++) {
            ArrayDeque<Stream<S, O, F>> queue = !waiting.isEmpty() ? waiting
                    : !background.isEmpty() && backgroundActive < backgroundSlots() ? background : null;
            if (queue == null) break;
            int cost = workload.cost(queue.peek().state());
            // the rest next turn; but one stream per turn always, or a cost above the budget would wait for an idle model
            if (runnableCount > 0 && admitted > 0 && budget < cost) break;
            Stream<S, O, F> s = queue.poll();
            budget -= cost;
            if (s.background()) {
                backgroundActive++;
                backgroundQueued.decrementAndGet();
            } else {
                pending.decrementAndGet();
            }
            int slot = occupied++;
            slots[slot] = s;
            s.slot = slot;
            active.incrementAndGet();
            s.admittedNanos = System.nanoTime();
            s.touch(); // time spent waiting for a slot is not the stream's idleness
            if (!s.background()) meters.queued(s.steering(), s.arm(), s.admittedNanos - s.submittedNanos);
            Stream.PendingSteering change = s.takePendingSteering();
            if (change != null) apply(s, change, false);
            long t0 = System.nanoTime();
            try {
                workload.admit(s);
            } catch (Throwable t) {
                if (!running) return; // interrupted by shutdown: finishAll ends it
                LOG.errorf(t, "scheduler %s: admitting %s failed", model, s);
                s.fault("admit");
            }
            meters.step(kind.phases().admit(), System.nanoTime() - t0);
        }
    }

    /**
     * Marks the streams that may run this turn and the span of slots holding them; a stream paused
     * inside the span for too many steps swaps places with the last running one.
     */
    private void arrange() {
        runnableCount = 0;
        for (int i = 0; i < occupied; i++) {
            Stream<S, O, F> s = slots[i];
            s.runnable = canRun(s);
            if (s.runnable) runnableCount++;
        }
        int lo = 0, hi = occupied - 1;
        while (true) {
            while (lo < hi && (slots[lo].runnable || slots[lo].pausedSteps < config.compactAfterPausedSteps())) lo++;
            while (hi > lo && !slots[hi].runnable) hi--;
            if (lo >= hi) break;
            swap(lo, hi);
        }
        span = occupied;
        while (span > 0 && !slots[span - 1].runnable) span--;
    }

    private boolean canRun(Stream<S, O, F> s) {
        if (s.closed() || s.outOfCredit()) return false;
        try {
            return workload.ready(s);
        } catch (Throwable t) {
            LOG.errorf(t, "scheduler %s: checking %s failed", model, s);
            s.fault("step");
            return false;
        }
    }

    /** Pending steering changes apply to the streams about to run: from their next output on. */
    private void applySteering() {
        for (int i = 0; i < span; i++) {
            Stream<S, O, F> s = slots[i];
            if (!s.runnable) continue;
            Stream.PendingSteering change = s.takePendingSteering();
            if (change == null) continue;
            apply(s, change, true);
            if (s.closed()) {
                s.runnable = false;
                runnableCount--;
            }
        }
    }

    private void apply(Stream<S, O, F> s, Stream.PendingSteering change, boolean admitted) {
        s.applySteering(change.steering());
        if (!s.background()) recentSteering.put(change.steering().metricLabel(), change.steering());
        boolean recomputed = false;
        if (admitted) {
            long t0 = System.nanoTime();
            try {
                recomputed = workload.steered(s, change.recompute());
            } catch (Throwable t) {
                LOG.errorf(t, "scheduler %s: applying a steering change to %s failed", model, s);
                s.fault("steering");
                return;
            }
            if (recomputed) meters.step(kind.phases().recompute(), System.nanoTime() - t0);
        }
        if (!s.background()) meters.steeringChanged(change.steering(), s.arm());
        s.emit(new StreamEvent.SteeringApplied<>(change.steering().tag(), s.produced(), recomputed, change.reason()));
    }

    private void step() {
        batch.reset(slots, span);
        for (int i = 0; i < span; i++) slots[i].pausedSteps = slots[i].runnable ? 0 : slots[i].pausedSteps + 1;
        long t0 = System.nanoTime();
        try {
            workload.forward(batch);
        } catch (Throwable t) {
            batch.invalidate();
            if (!running) return; // interrupted by shutdown: finishAll ends the streams
            LOG.errorf(t, "scheduler %s: a forward pass failed; ending the %d streams in it", model, batch.streams().size());
            for (Stream<S, O, F> s : batch.streams()) s.fault("step");
            return;
        }
        if (batch.rows() > 0) meters.rows(batch.rows());
        for (int i = 0; i < batch.timedPhases(); i++) meters.step(batch.phase(i), batch.phaseNanos(i));
        for (Stream<S, O, F> s : batch.streams()) {
            if (s.closed()) continue;
            try {
                workload.collect(s, batch);
            } catch (Throwable t) {
                LOG.errorf(t, "scheduler %s: handling the outputs of %s failed", model, s);
                s.fault("outputs");
            }
        }
        meters.step(kind.phases().step(), System.nanoTime() - t0);
    }

    private void swap(int a, int b) {
        if (a == b) return;
        Stream<S, O, F> sa = slots[a], sb = slots[b];
        workload.swap(a, b, sa, sb);
        slots[a] = sb;
        slots[b] = sa;
        sb.slot = a;
        sa.slot = b;
    }

    /** Frees slot i and moves the last occupied slot into the hole, so slots stay compact. */
    private void release(int i) {
        Stream<S, O, F> s = slots[i];
        try {
            workload.release(s, i);
        } catch (Throwable t) {
            LOG.errorf(t, "scheduler %s: releasing %s failed", model, s);
        }
        s.slot = -1;
        if (s.background()) backgroundActive--;
        slots[i] = null;
        int last = occupied - 1;
        if (i != last) {
            Stream<S, O, F> moved = slots[last];
            workload.move(last, i, moved);
            slots[i] = moved;
            slots[last] = null;
            moved.slot = i;
        }
        occupied--;
        active.decrementAndGet();
    }

    // ------------------------------------------------------------------ shutdown

    /**
     * Stops admitting, ends every stream with a final Shutdown event, stops the thread — aborting a
     * forward pass in flight — and only then releases the workload (its graph and buffers).
     */
    @Override
    public void close() throws Exception {
        accepting = false;
        running = false;
        workload.interrupt();
        inbox.add(WAKE);
        thread.join(TimeUnit.SECONDS.toMillis(60));
        if (thread.isAlive()) {
            // never free a session or buffers a step may still be using: leak them instead
            LOG.errorf("scheduler %s did not stop within 60 s; its graph stays open", model);
            return;
        }
        workload.close();
    }

    private void finishAll() {
        for (int i = occupied - 1; i >= 0; i--) {
            slots[i].finish(new StreamEvent.Ending.Shutdown<>());
            release(i);
        }
        Runnable command;
        while ((command = inbox.poll()) != null) {
            try {
                command.run(); // streams submitted during shutdown
            } catch (Throwable t) {
                LOG.debugf(t, "scheduler %s: a command during shutdown failed", model);
            }
        }
        for (Stream<S, O, F> s : waiting) s.finish(new StreamEvent.Ending.Shutdown<>());
        for (Stream<S, O, F> s : background) s.finish(new StreamEvent.Ending.Shutdown<>());
        pending.addAndGet(-waiting.size());
        backgroundQueued.addAndGet(-background.size());
        waiting.clear();
        background.clear();
    }
}
