package io.headgate.testing;

import io.headgate.engine.Fault;
import io.headgate.engine.StreamEvent;
import io.headgate.engine.StreamSink;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Collects a stream's events for engine-level tests. */
public class CollectingSink<O, F> implements StreamSink<O, F> {

    public final LinkedBlockingQueue<StreamEvent<O, F>> events = new LinkedBlockingQueue<>();
    public final List<StreamEvent<O, F>> all = new ArrayList<>();
    public final CompletableFuture<Void> done = new CompletableFuture<>();
    /** The fault that ended the stream, if one did. */
    public volatile Fault fault;

    @Override
    public void event(StreamEvent<O, F> event) {
        synchronized (all) {
            all.add(event);
        }
        events.add(event);
    }

    @Override
    public void complete() {
        done.complete(null);
    }

    @Override
    public void fail(Fault fault) {
        this.fault = fault;
        done.completeExceptionally(new IllegalStateException(fault.message()));
    }

    /** The next event, failing the test after 10 s. */
    public StreamEvent<O, F> next() throws InterruptedException {
        StreamEvent<O, F> e = events.poll(10, TimeUnit.SECONDS);
        if (e == null) throw new AssertionError("no event within 10 s");
        return e;
    }

    public O nextOutput() throws InterruptedException {
        while (true) {
            StreamEvent<O, F> e = next();
            if (e instanceof StreamEvent.Output<O, F>(O value)) return value;
            if (e instanceof StreamEvent.Finished<O, F> f) throw new AssertionError("finished (" + f.ending() + ") before another output");
        }
    }

    public List<StreamEvent<O, F>> awaitDone() throws Exception {
        done.get(30, TimeUnit.SECONDS);
        synchronized (all) {
            return List.copyOf(all);
        }
    }

    public List<O> outputs() throws Exception {
        List<O> out = new ArrayList<>();
        for (StreamEvent<O, F> e : awaitDone()) if (e instanceof StreamEvent.Output<O, F>(O value)) out.add(value);
        return out;
    }

    /** The final event, once the stream is done. */
    public StreamEvent.Finished<O, F> finished() throws Exception {
        return (StreamEvent.Finished<O, F>) awaitDone().getLast();
    }
}
