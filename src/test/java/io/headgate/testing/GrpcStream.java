package io.headgate.testing;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.headgate.api.v1.Ack;
import io.headgate.api.v1.GenerateEvent;
import io.headgate.api.v1.GenerateRequest;
import io.headgate.api.v1.Generator;
import io.headgate.api.v1.Start;
import io.headgate.api.v1.Steer;
import io.headgate.api.v1.Token;
import io.smallrye.mutiny.operators.multi.processors.UnicastProcessor;
import io.smallrye.mutiny.subscription.Cancellable;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** One Generate call driven step by step from a test: send requests, read events one at a time. */
public final class GrpcStream {

    private static final Object DONE = new Object();

    private final UnicastProcessor<GenerateRequest> requests = UnicastProcessor.create();
    private final LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
    private final Cancellable subscription;
    private boolean ended;
    private Throwable error;

    public GrpcStream(Generator generator) {
        subscription = generator.generate(requests).subscribe().with(inbox::add, inbox::add, () -> inbox.add(DONE));
    }

    public static GrpcStream start(Generator generator, Start start) {
        GrpcStream s = new GrpcStream(generator);
        s.send(GenerateRequest.newBuilder().setStart(start).build());
        return s;
    }

    public GrpcStream send(GenerateRequest request) {
        requests.onNext(request);
        return this;
    }

    public GrpcStream steer(Steer steer) {
        return send(GenerateRequest.newBuilder().setSteer(steer).build());
    }

    public GrpcStream ack(long consumed) {
        return send(GenerateRequest.newBuilder().setAck(Ack.newBuilder().setConsumed(consumed)).build());
    }

    public void halfClose() {
        requests.onComplete();
    }

    public void cancel() {
        subscription.cancel();
    }

    /** The next event; null once the call has ended (then see {@link #error()}). */
    public GenerateEvent next() throws InterruptedException {
        if (ended) return null;
        Object o = inbox.poll(15, TimeUnit.SECONDS);
        if (o == null) throw new AssertionError("no event within 15 s");
        if (o instanceof GenerateEvent e) return e;
        ended = true;
        if (o instanceof Throwable t) error = t;
        return null;
    }

    public Token nextToken() throws InterruptedException {
        for (GenerateEvent e = next(); e != null; e = next()) {
            if (e.hasToken()) return e.getToken();
            if (e.hasFinished()) throw new AssertionError("finished before another token: " + e.getFinished());
        }
        throw new AssertionError("the call ended before another token", error);
    }

    /** Every remaining event until the call ends. */
    public List<GenerateEvent> rest() throws InterruptedException {
        List<GenerateEvent> out = new ArrayList<>();
        for (GenerateEvent e = next(); e != null; e = next()) out.add(e);
        return out;
    }

    /** Reads to the end and returns the status the call failed with (OK if it completed). */
    public Status status() throws InterruptedException {
        rest();
        if (error == null) return Status.OK;
        if (error instanceof StatusRuntimeException s) return s.getStatus();
        return Status.fromThrowable(error);
    }

    public Throwable error() {
        return error;
    }

    public static List<Token> tokens(List<GenerateEvent> events) {
        return events.stream().filter(GenerateEvent::hasToken).map(GenerateEvent::getToken).toList();
    }
}
