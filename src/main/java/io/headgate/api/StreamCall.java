package io.headgate.api;

import io.headgate.api.v1.Steer;
import io.headgate.model.BundleManifest;
import io.headgate.steer.SteeringResolver;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.headgate.engine.Fault;
import io.headgate.engine.Rejection;
import io.headgate.engine.Scheduler;
import io.headgate.engine.Stream;
import io.headgate.engine.StreamEvent;
import io.headgate.engine.StreamSink;
import io.headgate.steer.Steering;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.subscription.Cancellable;
import io.smallrye.mutiny.subscription.MultiEmitter;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * One bidirectional streaming call of any kind: the client's messages are handled in order (a
 * Start once, then Steer, Ack and the kind's own messages), the stream is handed to its model's
 * scheduler, and the stream's events are mapped to the kind's protobuf and relayed to the client.
 * A bad Start fails the call with a status naming the field; a bad Steer is answered with a
 * rejection event and the stream goes on; a server fault ends the call with INTERNAL and a stable
 * message (the detail goes to the log, never to the client).
 *
 * @param <R> the kind's request message
 * @param <E> the kind's event message
 */
abstract class StreamCall<R, S, I, O, F, E> implements StreamSink<O, F> {

    private static final Logger LOG = Logger.getLogger(StreamCall.class);

    /**
     * The gRPC method: one call object per call, fed the request stream; its events are mapped to
     * protobuf on the way out.
     *
     * <p>The events are produced on the model's scheduler thread but mapped (protobuf, images) and
     * handed to gRPC on the call's own event loop: the scheduler thread does nothing per event but
     * queue it. And the hop is needed for the connection's sake: Vert.x writes a response's trailers
     * with a void promise and, from any other thread, queues that write onto the event loop; when the
     * client's RST_STREAM (a cancel) is read before the queued write runs, Netty finds the stream
     * gone, the void promise fires the failure down the pipeline and Vert.x answers it with
     * GOAWAY(PROTOCOL_ERROR) "Request stream N is not correct for server connection", closing the
     * whole connection and every other stream on it. On the event loop the reset is handled first (it
     * cancels this Multi, so no trailers follow) or the write completes first; the two never interleave.
     */
    static <R, O, F, E> Multi<E> serve(Multi<R> requests,
                                       Function<MultiEmitter<? super StreamEvent<O, F>>, StreamCall<R, ?, ?, O, F, E>> newCall) {
        Context loop = Vertx.currentContext();
        List<StreamCall<R, ?, ?, O, F, E>> call = new ArrayList<>(1); // made when the call is subscribed, before any event
        Multi<StreamEvent<O, F>> events = Multi.createFrom().emitter(emitter -> {
            StreamCall<R, ?, ?, O, F, E> c = newCall.apply(emitter);
            call.add(c);
            Cancellable inbound = requests.subscribe().with(c::onRequest, c::onRequestsFailed, c::onRequestsEnd);
            emitter.onTermination(() -> {
                c.onTermination();
                inbound.cancel();
            });
        });
        Multi<StreamEvent<O, F>> delivered = loop == null ? events : events.emitOn(task -> loop.runOnContext(ignored -> task.run()));
        return delivered.map(e -> call.getFirst().map(e));
    }

    private final MultiEmitter<? super StreamEvent<O, F>> emitter;
    private boolean started;
    // read without the lock by termination callbacks, which may run on the scheduler thread while it
    // holds the stream's lock (taking ours there could deadlock against a Steer being rejected)
    private volatile Scheduler<S, I, O, F> scheduler;
    private volatile Stream<S, O, F> stream;
    private long inlineCount;

    StreamCall(MultiEmitter<? super StreamEvent<O, F>> emitter) {
        this.emitter = emitter;
    }

    /** Dispatches one request: calls {@link #start}, {@link #steer}, {@link #ack} or {@link #deliver}. */
    abstract void dispatch(R request);

    /**
     * Maps an engine event to the kind's protobuf, on the call's event loop; exhaustive over the
     * sealed event types, so it cannot throw.
     */
    abstract E map(StreamEvent<O, F> event);

    final synchronized void onRequest(R request) {
        if (emitter.isCancelled()) return;
        try {
            dispatch(request);
        } catch (StatusRuntimeException e) {
            end(e);
        } catch (Rejection e) {
            end(Errors.of(e));
        } catch (RuntimeException e) {
            LOG.errorf(e, "a %s request failed", getClass().getSimpleName());
            end(Status.INTERNAL.withDescription("internal error handling this request; the server log has the detail").asRuntimeException());
        }
    }

    /** The client half-closed: the stream runs on to its end; a call that never started has nothing to do. */
    final synchronized void onRequestsEnd() {
        if (!started) end(Errors.precondition("start", "the request stream ended before a Start"));
    }

    final void onRequestsFailed(Throwable t) {
        onTermination();
    }

    /** The response stream ended: finished, failed or cancelled by the client. */
    final void onTermination() {
        Stream<S, O, F> s = stream;
        if (s != null) scheduler.cancel(s);
    }

    private void end(StatusRuntimeException e) {
        onTermination();
        emitter.fail(e);
    }

    // ------------------------------------------------------------------ for the kind's dispatch

    /** Marks the call started; a second Start fails it. */
    final void begin() {
        if (started) throw Errors.precondition("start", "this call has already started a stream; send Start once per call");
        started = true;
    }

    /** A Steer, Ack or kind message before Start fails the call. */
    final void requireStarted(String field) {
        if (!started) throw Errors.precondition(field, "send Start before " + Character.toUpperCase(field.charAt(0)) + field.substring(1));
    }

    /** Remembers the submitted stream, so later messages reach it and a cancel frees it. */
    final void submitted(Scheduler<S, I, O, F> scheduler, Stream<S, O, F> stream) {
        this.scheduler = scheduler;
        this.stream = stream;
    }

    final Stream<S, O, F> stream() {
        return stream;
    }

    /** The number of an inline steering of this call (each is tagged inline#N); 0 for a stored profile. */
    final long inlineNumber(io.headgate.api.v1.Steering s) {
        return s.hasInline() ? ++inlineCount : 0;
    }

    /**
     * A client's Steer against {@code model}'s profiles; one that cannot be resolved is answered in
     * the stream ({@link #rejectSteering}), which goes on unchanged.
     *
     * @param noReprefill why {@code reprefill} does not apply to this kind; null where it does
     */
    final void steer(Steer s, SteeringResolver resolver, BundleManifest model, String noReprefill) {
        if (stream == null) return;
        Steering next;
        try {
            if (s.getReprefill() && noReprefill != null) throw Errors.invalid("steer.reprefill", noReprefill + "; leave it false");
            if (!s.hasSteering()) throw Errors.invalid("steer.steering", "required");
            next = Requests.steering(resolver, model, s.getSteering(), "steer.steering", inlineNumber(s.getSteering()));
        } catch (StatusRuntimeException e) {
            rejectSteering(e, "steer.steering");
            return;
        }
        steer(next, s.getReprefill());
    }

    /** A resolved Steer: applies from the next step computed for the stream. */
    final void steer(Steering next, boolean recompute) {
        if (stream != null) scheduler.steer(stream, next, recompute);
    }

    /** A Steer that could not be resolved: answered in the stream, which goes on unchanged. */
    final void rejectSteering(StatusRuntimeException e, String defaultField) {
        if (stream == null) return;
        String description = e.getStatus().getDescription();
        int colon = description == null ? -1 : description.indexOf(": ");
        String field = colon > 0 ? description.substring(0, colon) : defaultField;
        String reason = colon > 0 ? description.substring(colon + 2) : String.valueOf(description);
        stream.emit(new StreamEvent.SteeringRejected<>(field, reason));
    }

    final void ack(long consumed) {
        if (stream != null) scheduler.acknowledge(stream, consumed);
    }

    final void deliver(I message) {
        if (stream != null) scheduler.deliver(stream, message);
    }

    // ------------------------------------------------------------------ StreamSink: engine → client

    @Override
    public final void event(StreamEvent<O, F> event) {
        emitter.emit(event);
    }

    @Override
    public final void complete() {
        emitter.complete();
    }

    @Override
    public final void fail(Fault fault) {
        emitter.fail(Status.INTERNAL.withDescription(fault.message()).asRuntimeException());
    }
}
