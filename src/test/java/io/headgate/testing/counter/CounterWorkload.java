package io.headgate.testing.counter;

import io.headgate.engine.Batch;
import io.headgate.engine.Kind;
import io.headgate.engine.Stream;
import io.headgate.engine.Workload;
import io.headgate.model.BundleManifest;
import io.headgate.model.ControlRow;

import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test-only kind that needs no model: each stream owns several rows per step (row 0 under its
 * steering, row r under a fixed control row of gain r + 1), and a row's "output" is the first gain
 * of the control row the engine wrote for it times the stream's count — so a test sees exactly
 * which control row each row ran under. Client messages add to the count. It checks the engine's
 * contract as it runs: one thread, messages never during a step, slots consistent, close after stop.
 */
public final class CounterWorkload implements Workload<CounterState, Long, CounterOutput, CounterResult> {

    public static final String KIND_NAME = "test-counter";
    public static final Kind KIND = new Kind(KIND_NAME, new Kind.Phases("admit", "count", "recount"),
            new Kind.OutputMeters("headgate.test.first.count", "headgate.test.inter.count", "headgate.test.counts", "count"));
    public static final BundleManifest.Dimensions DIMS = new BundleManifest.Dimensions(2, 2, 2, 16, 32, 0);
    public static final int ROWS_PER_STREAM = 4;

    private final int slots;
    private final ControlRow[] fixed = new ControlRow[ROWS_PER_STREAM];
    private final Stream<?, ?, ?>[] owners;
    private final CountDownLatch interrupted = new CountDownLatch(1);
    private volatile Thread schedulerThread;
    private boolean inStep;
    /** Broken engine promises seen so far (must stay 0). */
    public final AtomicInteger violations = new AtomicInteger();
    public final AtomicInteger released = new AtomicInteger();
    public final AtomicInteger messages = new AtomicInteger();
    public volatile boolean closed;
    public volatile boolean closedWhileSchedulerRan;

    public CounterWorkload(int slots) {
        this.slots = slots;
        this.owners = new Stream<?, ?, ?>[slots];
        for (int r = 0; r < ROWS_PER_STREAM; r++) {
            fixed[r] = ControlRow.identity(DIMS);
            Arrays.fill(fixed[r].gain(), r + 1);
        }
    }

    @Override
    public Kind kind() {
        return KIND;
    }

    @Override
    public BundleManifest.Dimensions dimensions() {
        return DIMS;
    }

    @Override
    public int slots() {
        return slots;
    }

    @Override
    public int maxRows() {
        return slots * ROWS_PER_STREAM;
    }

    @Override
    public int cost(CounterState state) {
        return state.rows;
    }

    private void onSchedulerThread() {
        if (schedulerThread == null) schedulerThread = Thread.currentThread();
        if (schedulerThread != Thread.currentThread()) violations.incrementAndGet();
    }

    @Override
    public void admit(Stream<CounterState, CounterOutput, CounterResult> stream) throws Exception {
        onSchedulerThread();
        CounterState st = stream.state();
        if (owners[stream.slot()] != null) violations.incrementAndGet();
        owners[stream.slot()] = stream;
        if (st.failAdmit) throw new IllegalStateException("injected: admission fails");
        if (st.longAdmit != null) {
            while (!st.longAdmit.await(10, TimeUnit.MILLISECONDS)) {
                if (interrupted.getCount() == 0) throw new IllegalStateException("interrupted: the server is stopping");
            }
        }
    }

    @Override
    public boolean ready(Stream<CounterState, CounterOutput, CounterResult> stream) {
        return !stream.state().stepsOnMessage || stream.state().hasMessage;
    }

    @Override
    public void forward(Batch<CounterState, CounterOutput, CounterResult> batch) {
        onSchedulerThread();
        inStep = true;
        try {
            for (var s : batch.streams()) {
                if (owners[s.slot()] != s) violations.incrementAndGet();
                if (s.state().poisonForward) throw new IllegalStateException("injected: the forward pass fails");
            }
            int perRow = DIMS.layers() * DIMS.heads();
            for (var s : batch.streams()) {
                CounterState st = s.state();
                for (int r = 0; r < st.rows; r++) {
                    int row = batch.add(s, r == 0 ? s.steering().row() : fixed[r]);
                    if (batch.owner(row) != s) violations.incrementAndGet();
                    st.values[r] = batch.controls().gain().get(row * perRow) * st.counter;
                }
            }
        } finally {
            inStep = false;
        }
    }

    @Override
    public void collect(Stream<CounterState, CounterOutput, CounterResult> stream, Batch<CounterState, CounterOutput, CounterResult> batch) {
        CounterState st = stream.state();
        if (st.failCollectAt == stream.produced()) throw new IllegalStateException("injected: handling the outputs fails");
        st.counter++;
        st.hasMessage = false;
        stream.emitOutput(new CounterOutput(stream.produced(), st.counter, st.values.clone(), stream.steering().tag()));
        if (stream.produced() >= st.steps) stream.finish(new CounterResult(st.counter));
    }

    @Override
    public void receive(Stream<CounterState, CounterOutput, CounterResult> stream, Long delta) {
        onSchedulerThread();
        if (inStep) violations.incrementAndGet();
        messages.incrementAndGet();
        stream.state().counter += delta;
        stream.state().received.add(delta);
        stream.state().hasMessage = true;
    }

    @Override
    public void swap(int a, int b, Stream<CounterState, CounterOutput, CounterResult> inA, Stream<CounterState, CounterOutput, CounterResult> inB) {
        if (owners[a] != inA || owners[b] != inB) violations.incrementAndGet();
        owners[a] = inB;
        owners[b] = inA;
    }

    @Override
    public void move(int from, int to, Stream<CounterState, CounterOutput, CounterResult> stream) {
        if (owners[from] != stream || owners[to] != null) violations.incrementAndGet();
        owners[to] = stream;
        owners[from] = null;
    }

    @Override
    public void release(Stream<CounterState, CounterOutput, CounterResult> stream, int slot) {
        if (owners[slot] != stream) violations.incrementAndGet();
        owners[slot] = null;
        released.incrementAndGet();
    }

    @Override
    public void interrupt() {
        interrupted.countDown();
    }

    @Override
    public void close() {
        closedWhileSchedulerRan = schedulerThread != null && schedulerThread.isAlive();
        closed = true;
    }
}
