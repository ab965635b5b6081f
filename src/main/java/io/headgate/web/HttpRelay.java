package io.headgate.web;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

/**
 * One gRPC call made for one HTTP exchange, its responses relayed into the HTTP response.
 *
 * <p>Everything about the call happens on the HTTP request's Vert.x context: the call's callbacks
 * are run there (its executor), and messages from other HTTP requests (a Steer POST) are handed
 * there too, so the call (not thread-safe) and the response see one thread, in order. Responses
 * are requested one at a time and the next only once the HTTP response can take more, so a slow
 * reader holds the gRPC stream back (and, through the API's own credit, the model) instead of
 * filling memory. An HTTP client that goes away cancels the call, which frees the stream's slot
 * as a gRPC cancellation does.
 */
abstract class HttpRelay<Q, P> extends ClientCall.Listener<P> {

    final RoutingContext http;
    private final Context context;
    private ClientCall<Q, P> call;
    private volatile boolean closed;
    private boolean done; // half-closed or cancelled: nothing more may be sent (context thread only)

    HttpRelay(RoutingContext http) {
        this.http = http;
        this.context = Vertx.currentContext();
    }

    /** Starts the call with {@code headers}; call on the HTTP request's context. */
    final void start(Channel channel, MethodDescriptor<Q, P> method, Metadata headers) {
        call = channel.newCall(method, CallOptions.DEFAULT.withExecutor(task -> context.runOnContext(ignored -> task.run())));
        http.response().closeHandler(ignored -> {
            if (closed) return;
            done = true;
            call.cancel("the HTTP client went away", null);
        });
        call.start(this, headers);
        call.request(1);
    }

    /** A response message; the next is requested when this returns (and the HTTP response can take it). */
    abstract void message(P message);

    /** The call ended: OK after its last message, or failed. */
    abstract void ended(Status status);

    /** Sends a request message from any thread; false if the call has already ended. */
    final boolean send(Q message, boolean halfClose) {
        if (closed) return false;
        context.runOnContext(ignored -> {
            if (closed || done) return; // a message racing the stream's end has nowhere to go
            call.sendMessage(message);
            if (halfClose) halfClose();
        });
        return true;
    }

    /** No more request messages: the server may end the call. Call on the context. */
    final void halfClose() {
        if (closed || done) return;
        done = true;
        call.halfClose();
    }

    /** Cancels the call from any thread (a DELETE, or the client's own wish). */
    final void cancel(String why) {
        context.runOnContext(ignored -> {
            if (closed) return;
            done = true;
            call.cancel(why, null);
        });
    }

    final boolean isClosed() {
        return closed;
    }

    @Override
    public final void onMessage(P message) {
        message(message);
        HttpServerResponse response = http.response();
        if (!writable()) return;
        if (response.writeQueueFull()) {
            response.drainHandler(ignored -> call.request(1));
        } else {
            call.request(1);
        }
    }

    @Override
    public final void onClose(Status status, Metadata trailers) {
        closed = true;
        ended(status);
    }

    /** Whether the HTTP response can still be written (the client is there and it has not ended). */
    final boolean writable() {
        return !http.response().closed() && !http.response().ended();
    }
}
