package io.headgate.testing;

import io.headgate.engine.StreamEvent;
import io.headgate.engine.StreamSink;
import io.headgate.engine.lm.TokenEvent;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Collects a stream's events for engine-level tests. */
public final class CollectingSink implements StreamSink {

    public final LinkedBlockingQueue<StreamEvent> events = new LinkedBlockingQueue<>();
    public final List<StreamEvent> all = new ArrayList<>();
    public final CompletableFuture<Void> done = new CompletableFuture<>();

    @Override
    public void event(StreamEvent event) {
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
    public void fail(Throwable error) {
        done.completeExceptionally(error);
    }

    /** The next event, failing the test after 10 s. */
    public StreamEvent next() throws InterruptedException {
        StreamEvent e = events.poll(10, TimeUnit.SECONDS);
        if (e == null) throw new AssertionError("no event within 10 s");
        return e;
    }

    public TokenEvent nextToken() throws InterruptedException {
        while (true) {
            StreamEvent e = next();
            if (e instanceof TokenEvent t) return t;
            if (e instanceof StreamEvent.Finished f) throw new AssertionError("finished (" + f.reason() + ") before another token");
        }
    }

    public List<StreamEvent> awaitDone() throws Exception {
        done.get(30, TimeUnit.SECONDS);
        synchronized (all) {
            return List.copyOf(all);
        }
    }

    public List<Long> tokens() throws Exception {
        return awaitDone().stream().filter(e -> e instanceof TokenEvent).map(e -> ((TokenEvent) e).id()).toList();
    }
}
