package io.headgate.engine;

import io.headgate.model.BundleManifest;

/** A workload that delegates every call: tests override the calls they count or break. */
class ForwardingWorkload<S, I, O, F> implements Workload<S, I, O, F> {

    private final Workload<S, I, O, F> inner;

    ForwardingWorkload(Workload<S, I, O, F> inner) {
        this.inner = inner;
    }

    Workload<S, I, O, F> inner() {
        return inner;
    }

    @Override
    public Kind kind() {
        return inner.kind();
    }

    @Override
    public BundleManifest.Dimensions dimensions() {
        return inner.dimensions();
    }

    @Override
    public int slots() {
        return inner.slots();
    }

    @Override
    public int maxRows() {
        return inner.maxRows();
    }

    @Override
    public int cost(S state) {
        return inner.cost(state);
    }

    @Override
    public void admit(Stream<S, O, F> stream) throws Exception {
        inner.admit(stream);
    }

    @Override
    public boolean ready(Stream<S, O, F> stream) {
        return inner.ready(stream);
    }

    @Override
    public void forward(Batch<S, O, F> batch) throws Exception {
        inner.forward(batch);
    }

    @Override
    public void collect(Stream<S, O, F> stream, Batch<S, O, F> batch) throws Exception {
        inner.collect(stream, batch);
    }

    @Override
    public void receive(Stream<S, O, F> stream, I message) throws Exception {
        inner.receive(stream, message);
    }

    @Override
    public boolean steered(Stream<S, O, F> stream, boolean recompute) throws Exception {
        return inner.steered(stream, recompute);
    }

    @Override
    public void swap(int a, int b, Stream<S, O, F> inA, Stream<S, O, F> inB) {
        inner.swap(a, b, inA, inB);
    }

    @Override
    public void move(int from, int to, Stream<S, O, F> stream) {
        inner.move(from, to, stream);
    }

    @Override
    public void release(Stream<S, O, F> stream, int slot) {
        inner.release(stream, slot);
    }

    @Override
    public void interrupt() {
        inner.interrupt();
    }

    @Override
    public void close() throws Exception {
        inner.close();
    }
}
