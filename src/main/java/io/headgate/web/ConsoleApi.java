package io.headgate.web;

import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import io.grpc.Metadata;
import io.grpc.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The browser's transport to the gRPC API, on the gateway's port:
 *
 * <ul>
 *   <li>{@code POST /api/{Service}/{Method}} with the request message as JSON calls that method. A
 *       unary method answers with its response as JSON; a streaming one with Server-Sent Events
 *       (see {@link ConsoleCall}). For Generate and the other request-streaming methods the body is
 *       their {@code start} message.</li>
 *   <li>{@code POST /api/streams/{id}/{message}} sends one more request message to a running
 *       stream: {@code steer}, {@code ack}, {@code observe} or {@code close}, the body being that
 *       message as JSON, exactly as a gRPC client would send it on the stream; 202 once handed over
 *       (the stream's events say what came of it).</li>
 *   <li>{@code DELETE /api/streams/{id}} cancels a stream, as closing the event stream does.</li>
 * </ul>
 *
 * Each call is a gRPC call to this gateway ({@link GatewayChannel}) carrying the request's
 * {@code Authorization} header as metadata, so validation, errors and the admin rule are the gRPC
 * API's own. Bodies must be {@code application/json}: a cross-site page cannot send that without
 * a CORS preflight, which is never granted, so another site cannot start or steer streams here.
 */
@ApplicationScoped
public class ConsoleApi {

    static final int MAX_BODY_BYTES = 16 << 20;
    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final SecureRandom IDS = new SecureRandom();

    @Inject
    GatewayChannel gateway;

    // stream id → the call; an id is 128 random bits, so only the page that started a stream can steer it
    private final Map<String, ConsoleCall> streams = new ConcurrentHashMap<>();

    void routes(@Observes Router router) {
        BodyHandler bodies = BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES);
        router.post("/api/streams/:id/:message").handler(bodies).handler(this::streamMessage);
        router.delete("/api/streams/:id").handler(this::cancelStream);
        router.post("/api/:service/:method").handler(bodies).handler(this::call);
    }

    private void call(RoutingContext http) {
        Optional<ApiMethods.ApiMethod> found = ApiMethods.find(http.pathParam("service"), http.pathParam("method"));
        if (found.isEmpty()) {
            refuse(http, Status.UNIMPLEMENTED.withDescription("path: no method " + http.pathParam("service") + "/" + http.pathParam("method")
                    + "; the API has " + String.join(", ", ApiMethods.names())));
            return;
        }
        if (!jsonBody(http)) return;
        ApiMethods.ApiMethod method = found.get();
        Message request;
        try {
            if (method.streamsRequests()) {
                Descriptors.FieldDescriptor start = method.requestField("start").orElseThrow();
                Message first = ProtoJson.parse(http.body().asString(), method.requestPrototype().newBuilderForType().newBuilderForField(start).build());
                request = method.requestPrototype().newBuilderForType().setField(start, first).build();
            } else {
                request = ProtoJson.parse(http.body().asString(), method.requestPrototype());
            }
        } catch (ProtoJson.BadJson e) {
            refuse(http, Status.INVALID_ARGUMENT.withDescription("body: " + e.getMessage()));
            return;
        }
        String id = method.streamsRequests() ? newId() : null;
        ConsoleCall call = new ConsoleCall(http, method, id, streams::remove);
        if (id != null) streams.put(id, call);
        call.start(gateway.to(http.request()), method.descriptor(), headers(http));
        call.send(request, !method.streamsRequests());
    }

    private void streamMessage(RoutingContext http) {
        ConsoleCall call = streams.get(http.pathParam("id"));
        if (call == null || call.isClosed()) {
            refuse(http, Status.NOT_FOUND.withDescription("id: no running stream " + Quote.of(http.pathParam("id"))));
            return;
        }
        String name = http.pathParam("message");
        Optional<Descriptors.FieldDescriptor> field = call.method().requestField(name).filter(f -> !f.getName().equals("start"));
        if (field.isEmpty()) {
            refuse(http, Status.INVALID_ARGUMENT.withDescription("message: " + Quote.of(name) + " is not a message of this stream; send one of "
                    + String.join(", ", call.method().streamMessages())));
            return;
        }
        if (!jsonBody(http)) return;
        Message message;
        try {
            Message.Builder builder = call.method().requestPrototype().newBuilderForType();
            message = builder.setField(field.get(), ProtoJson.parse(http.body().asString(), builder.newBuilderForField(field.get()).build())).build();
        } catch (ProtoJson.BadJson e) {
            refuse(http, Status.INVALID_ARGUMENT.withDescription(name + ": " + e.getMessage()));
            return;
        }
        if (!call.send(message, false)) {
            refuse(http, Status.NOT_FOUND.withDescription("id: the stream has ended"));
            return;
        }
        http.response().setStatusCode(202).putHeader("Content-Type", "application/json").end("{}");
    }

    private void cancelStream(RoutingContext http) {
        ConsoleCall call = streams.get(http.pathParam("id"));
        if (call == null) {
            refuse(http, Status.NOT_FOUND.withDescription("id: no running stream " + Quote.of(http.pathParam("id"))));
            return;
        }
        call.cancel("cancelled by the client");
        http.response().setStatusCode(202).putHeader("Content-Type", "application/json").end("{}");
    }

    /** Only JSON bodies (see the class comment); false after answering 415. */
    private static boolean jsonBody(RoutingContext http) {
        String type = http.request().getHeader("Content-Type");
        if (type != null && type.toLowerCase().startsWith("application/json")) return true;
        http.response().setStatusCode(415).putHeader("Content-Type", "application/json")
                .end(ConsoleCall.errorJson(Status.INVALID_ARGUMENT.withDescription("Content-Type: send the body as application/json")).toString());
        return false;
    }

    private static Metadata headers(RoutingContext http) {
        Metadata headers = new Metadata();
        String authorization = http.request().getHeader("Authorization");
        if (authorization != null) headers.put(AUTHORIZATION, authorization);
        return headers;
    }

    private static void refuse(RoutingContext http, Status status) {
        http.response().setStatusCode(GrpcHttpStatus.of(status.getCode())).putHeader("Content-Type", "application/json")
                .end(ConsoleCall.errorJson(status).toString());
    }

    private static String newId() {
        byte[] bytes = new byte[16];
        IDS.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
