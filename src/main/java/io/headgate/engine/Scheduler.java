package io.headgate.engine;

import io.headgate.steer.Steering;
import org.jboss.logging.Logger;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One model's step loop, on its own thread: continuous batching over the workload's slots.
 *
 * <p>Each turn: run posted commands, drop cancelled streams, admit waiting streams into free slots
 * (prefill), keep the streams that may run (not out of credit) in slots [0, runnable), apply
 * pending steering changes, then compute one step for exactly those rows. Idle or paused slots are
 * never computed. Other threads only post commands and set flags; all slot state lives here.
 */
public final class Scheduler implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Scheduler.class);
    private static final Runnable WAKE = () -> { };
    /** The arm label of streams outside any experiment. */
    public static final String NO_ARM = "none";

    /**
     * @param maxWaiting          streams that may queue for a slot before new ones are refused
     * @param prefillTokensPerStep prompt tokens admitted per turn while other streams are running (at
     *                            least one stream is always admitted): bounds how long a burst of
     *                            new streams stalls the running ones
     */
    public record Config(int maxWaiting, int prefillTokensPerStep) {
        public Config {
            if (maxWaiting < 0) throw new IllegalArgumentException("maxWaiting must be >= 0");
            if (prefillTokensPerStep <= 0) throw new IllegalArgumentException("prefillTokensPerStep must be positive");
        }

        public Config(int maxWaiting) {
            this(maxWaiting, 512);
        }
    }

    private final String model;
    private final Workload workload;
    private final Config config;
    private final EngineMetrics.ModelMeters meters;
    private final Thread thread;
    private final LinkedBlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>();
    private final AtomicInteger pending = new AtomicInteger();  // submitted, not yet admitted
    private final AtomicInteger active = new AtomicInteger();   // holding a slot
    private final java.util.Map<String, Steering> recentSteering = new java.util.concurrent.ConcurrentHashMap<>();

    // scheduler thread only
    private final ArrayDeque<Stream> waiting = new ArrayDeque<>();
    private final ArrayDeque<Stream> background = new ArrayDeque<>(); // admitted only when no live stream waits
    private int backgroundActive;
    private final Stream[] slots;
    private int runnable, occupied;

    private volatile boolean accepting = true;
    private volatile boolean running = true;

    public Scheduler(String model, Workload workload, Config config, EngineMetrics metrics) {
        this.model = model;
        this.workload = workload;
        this.config = config;
        this.slots = new Stream[workload.slots()];
        this.meters = metrics.forModel(model, active::get, pending::get);
        this.thread = new Thread(this::loop, "headgate-scheduler-" + model);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    public String model() {
        return model;
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

    /**
     * Queues a stream. Its {@code Started} event is emitted before this returns, so it precedes
     * every event of the stream.
     *
     * @throws Rejection EXHAUSTED past the waiting bound, UNAVAILABLE while shutting down
     */
    public Stream submit(Object work, Steering steering, int promptTokens, int creditWindow, StreamSink sink) {
        return submit(work, steering, promptTokens, creditWindow, NO_ARM, sink);
    }

    /** As {@link #submit(Object, Steering, int, int, StreamSink)}, for a stream assigned to an A/B arm. */
    public Stream submit(Object work, Steering steering, int promptTokens, int creditWindow, String arm, StreamSink sink) {
        if (!accepting) throw new Rejection(Rejection.Kind.UNAVAILABLE, "", "the server is shutting down");
        int free = Math.max(0, slots.length - active.get());
        if (pending.incrementAndGet() > config.maxWaiting() + free) {
            pending.decrementAndGet();
            throw new Rejection(Rejection.Kind.EXHAUSTED, "", "model '" + model + "' has " + slots.length
                    + " slots busy and " + config.maxWaiting() + " streams waiting; retry later");
        }
        String id = model + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1);
        Stream stream = new Stream(id, work, steering, promptTokens, creditWindow, arm, sink, meters);
        recentSteering.put(steering.metricLabel(), steering);
        stream.emit(new StreamEvent.Started(id, model, steering.tag(), promptTokens, steering.follows() != null, arm));
        inbox.add(() -> waiting.add(stream));
        return stream;
    }

    /**
     * Queues an internal, low-priority stream (canary evaluations): admitted only while no live
     * stream is waiting, into at most a quarter of the slots, and not counted as waiting.
     */
    public Stream submitBackground(Object work, Steering steering, int promptTokens, StreamSink sink) {
        if (!accepting) throw new Rejection(Rejection.Kind.UNAVAILABLE, "", "the server is shutting down");
        String id = model + "-bg-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1);
        Stream stream = new Stream(id, work, steering, promptTokens, 0, NO_ARM, sink, meters);
        stream.background = true;
        inbox.add(() -> background.add(stream));
        return stream;
    }

    /** What the streams assigned to an A/B arm have done so far. */
    public EngineMetrics.ArmTotals armTotals(String arm) {
        return meters.armTotals(arm);
    }

    /** The steerings live streams have used since the last call (the latest of each profile), then forgets them. */
    public java.util.Collection<Steering> takeRecentSteerings() {
        java.util.List<Steering> out = new java.util.ArrayList<>();
        for (String label : java.util.List.copyOf(recentSteering.keySet())) {
            Steering s = recentSteering.remove(label);
            if (s != null) out.add(s);
        }
        return out;
    }

    /** The stream switches to {@code steering} at the first step computed after this call. */
    public void steer(Stream stream, Steering steering, boolean reprefill) {
        stream.requestSteering(new Stream.PendingSteering(steering, reprefill, "steer"));
        inbox.add(WAKE);
    }

    /** Credit: the client has consumed {@code total} outputs. */
    public void acknowledge(Stream stream, long total) {
        stream.acknowledge(total);
        inbox.add(WAKE);
    }

    /** The client went away: the slot is freed within one step, no more events are sent. */
    public void cancel(Stream stream) {
        stream.cancel();
        inbox.add(WAKE);
    }

    /** A followed profile has a new revision: streams following {@code name} switch to it. */
    public void followed(String name, Steering next) {
        inbox.add(() -> {
            for (int i = 0; i < occupied; i++) offerFollow(slots[i], name, next);
            for (Stream s : waiting) offerFollow(s, name, next);
        });
    }

    private static void offerFollow(Stream s, String name, Steering next) {
        if (name.equals(s.steering().follows())) s.requestSteering(new Stream.PendingSteering(next, false, "follow"));
    }

    // ------------------------------------------------------------------ the loop

    private void loop() {
        while (running) {
            try {
                runCommands(runnable == 0 && waiting.isEmpty() && background.isEmpty());
                if (!running) break;
                reap();
                admit();
                arrange();
                applySteering();
                if (runnable > 0) step();
                reap();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (Throwable t) {
                // a fault in one turn must not stop the model: fail the rows it touched and go on
                LOG.errorf(t, "scheduler %s: step failed; ending the %d streams in the batch", model, runnable);
                for (int i = runnable - 1; i >= 0; i--) slots[i].fail(t);
                reap();
            }
        }
        finishAll();
    }

    private void runCommands(boolean block) throws InterruptedException {
        Runnable command = block ? inbox.poll(200, TimeUnit.MILLISECONDS) : inbox.poll();
        while (command != null) {
            command.run();
            command = inbox.poll();
        }
    }

    /** Frees the slots of streams that finished or were cancelled; drops cancelled waiting streams. */
    private void reap() {
        for (int i = occupied - 1; i >= 0; i--) {
            Stream s = slots[i];
            if (s.cancelled()) s.close();
            if (s.closed()) release(i);
        }
        waiting.removeIf(s -> {
            if (!s.cancelled()) return false;
            s.close();
            pending.decrementAndGet();
            return true;
        });
        background.removeIf(Stream::cancelled);
    }

    private void admit() throws Exception {
        int budget = config.prefillTokensPerStep();
        while (occupied < slots.length) {
            ArrayDeque<Stream> queue = !waiting.isEmpty() ? waiting
                    : !background.isEmpty() && backgroundActive < Math.max(1, slots.length / 4) ? background : null;
            if (queue == null) break;
            if (runnable > 0 && budget < queue.peek().promptTokens()) break; // the rest next turn
            Stream s = queue.poll();
            budget -= s.promptTokens();
            if (s.background) backgroundActive++;
            else pending.decrementAndGet();
            int slot = occupied++;
            slots[slot] = s;
            s.slot = slot;
            active.incrementAndGet();
            s.admittedNanos = System.nanoTime();
            if (!s.background) meters.queued(s.steering(), s.arm(), s.admittedNanos - s.submittedNanos);
            Stream.PendingSteering change = s.takePendingSteering();
            if (change != null) apply(s, change, false);
            long t0 = System.nanoTime();
            try {
                workload.admit(s, slot);
            } catch (Exception e) {
                LOG.errorf(e, "scheduler %s: prefill of %s failed", model, s.id());
                s.fail(e);
            }
            meters.step("prefill", System.nanoTime() - t0, 1);
        }
    }

    /** Keeps the streams that may run in slots [0, runnable) and the paused ones after them. */
    private void arrange() {
        for (int i = runnable - 1; i >= 0; i--) {
            if (!canRun(slots[i])) swap(i, --runnable);
        }
        for (int i = runnable; i < occupied; i++) {
            if (canRun(slots[i])) swap(i, runnable++);
        }
    }

    private static boolean canRun(Stream s) {
        return !s.closed() && !s.outOfCredit();
    }

    private void applySteering() throws Exception {
        for (int i = 0; i < runnable; i++) {
            Stream.PendingSteering change = slots[i].takePendingSteering();
            if (change != null) apply(slots[i], change, true);
        }
    }

    private void apply(Stream s, Stream.PendingSteering change, boolean admitted) throws Exception {
        s.applySteering(change.steering());
        if (!s.background) recentSteering.put(change.steering().metricLabel(), change.steering());
        boolean reprefilled = false;
        if (change.reprefill() && admitted) {
            long t0 = System.nanoTime();
            workload.reprefill(s, s.slot);
            meters.step("reprefill", System.nanoTime() - t0, 1);
            reprefilled = true;
        }
        if (!s.background) meters.steeringChanged(change.steering(), s.arm());
        s.emit(new StreamEvent.SteeringApplied(change.steering().tag(), s.produced(), reprefilled, change.reason()));
    }

    private void step() throws Exception {
        List<Stream> rows = Arrays.asList(slots).subList(0, runnable);
        long t0 = System.nanoTime();
        workload.step(rows);
        meters.step("decode", System.nanoTime() - t0, runnable);
    }

    private void swap(int a, int b) {
        if (a == b) return;
        Stream sa = slots[a], sb = slots[b];
        slots[a] = sb;
        slots[b] = sa;
        sb.slot = a;
        sa.slot = b;
        workload.swap(a, b, sa, sb);
    }

    private void move(int from, int to) {
        Stream s = slots[from];
        slots[to] = s;
        slots[from] = null;
        s.slot = to;
        workload.move(from, to, s);
    }

    /** Frees slot i and refills the hole so runnable and paused streams both stay compact. */
    private void release(int i) {
        Stream s = slots[i];
        workload.release(s, i);
        s.slot = -1;
        if (s.background) backgroundActive--;
        slots[i] = null;
        int last = occupied - 1;
        if (i < runnable) {
            int lastRunnable = runnable - 1;
            if (i != lastRunnable) move(lastRunnable, i);
            if (lastRunnable != last) move(last, lastRunnable);
            runnable--;
        } else if (i != last) {
            move(last, i);
        }
        occupied--;
        active.decrementAndGet();
    }

    // ------------------------------------------------------------------ shutdown

    /** Stops admitting, ends every stream with a SHUTDOWN final event, stops the thread. */
    @Override
    public void close() throws Exception {
        accepting = false;
        running = false;
        inbox.add(WAKE);
        thread.join(10_000);
        workload.close();
    }

    private void finishAll() {
        for (int i = occupied - 1; i >= 0; i--) {
            slots[i].finish(StreamEvent.FinishReason.SHUTDOWN, "");
            release(i);
        }
        Runnable command;
        while ((command = inbox.poll()) != null) command.run(); // streams submitted during shutdown
        for (Stream s : waiting) s.finish(StreamEvent.FinishReason.SHUTDOWN, "");
        for (Stream s : background) s.finish(StreamEvent.FinishReason.SHUTDOWN, "");
        pending.addAndGet(-waiting.size());
        waiting.clear();
        background.clear();
    }
}
