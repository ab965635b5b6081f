package io.headgate.web;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import io.grpc.Status;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

import java.util.function.Consumer;

/**
 * One API call made for the console transport. A unary method answers with its response as JSON;
 * a streaming one with Server-Sent Events, each event named after the field of the event's oneof
 * that is set ({@code token}, {@code steering_applied}, {@code step}, {@code progress}, ...) and
 * carrying that message as JSON. A call that fails before its first event answers with the HTTP
 * status of its gRPC status and {@link #errorJson}; one that fails later ends its events with an
 * {@code error} event of the same shape.
 *
 * <p>A request-streaming call (Generate, Forecast) first sends a {@code stream} event with its id,
 * the key of the POSTs that steer, acknowledge and observe it.
 */
final class ConsoleCall extends HttpRelay<Message, Message> {

    private final ApiMethods.ApiMethod method;
    private final String streamId;         // null unless the method streams requests
    private final Consumer<String> onEnd;  // forgets the stream id
    private Message single;                // a unary call's response
    private boolean committed;

    ConsoleCall(RoutingContext http, ApiMethods.ApiMethod method, String streamId, Consumer<String> onEnd) {
        super(http);
        this.method = method;
        this.streamId = streamId;
        this.onEnd = onEnd;
    }

    ApiMethods.ApiMethod method() {
        return method;
    }

    @Override
    void message(Message message) {
        if (!method.streamsResponses()) {
            single = message;
            return;
        }
        if (!writable()) return;
        commit();
        Descriptors.FieldDescriptor set = setOneofField(message);
        if (set == null) {
            Sse.event(http.response(), "message", ProtoJson.print(message));
        } else {
            Sse.event(http.response(), set.getName(), ProtoJson.print((Message) message.getField(set)));
            // the last event of every kind's stream: nothing more to send, so the call ends cleanly
            if (method.streamsRequests() && set.getName().equals("finished")) halfClose();
        }
    }

    @Override
    void ended(Status status) {
        if (streamId != null) onEnd.accept(streamId);
        if (!writable()) return;
        HttpServerResponse response = http.response();
        if (status.isOk()) {
            if (method.streamsResponses()) {
                commit();
                response.end();
            } else {
                response.setStatusCode(200).putHeader("Content-Type", "application/json").end(ProtoJson.print(single));
            }
        } else if (committed) {
            Sse.event(response, "error", errorJson(status).toString());
            response.end();
        } else {
            response.setStatusCode(GrpcHttpStatus.of(status.getCode())).putHeader("Content-Type", "application/json")
                    .end(errorJson(status).toString());
        }
    }

    private void commit() {
        if (committed) return;
        committed = true;
        Sse.begin(http.response());
        if (streamId != null) Sse.event(http.response(), "stream", JsonNodeFactory.instance.objectNode().put("id", streamId).toString());
    }

    private static Descriptors.FieldDescriptor setOneofField(Message message) {
        var oneofs = message.getDescriptorForType().getRealOneofs();
        if (oneofs.size() != 1) return null;
        Descriptors.FieldDescriptor f = message.getOneofFieldDescriptor(oneofs.getFirst());
        return f != null && f.getJavaType() == Descriptors.FieldDescriptor.JavaType.MESSAGE ? f : null;
    }

    /** {@code {"error": {"code": "INVALID_ARGUMENT", "message": "start.model: ...", "field": "start.model"}}} */
    static ObjectNode errorJson(Status status) {
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        String description = status.getDescription() == null ? status.getCode().name() : status.getDescription();
        body.putObject("error")
                .put("code", status.getCode().name())
                .put("message", description)
                .put("field", GrpcHttpStatus.field(description));
        return body;
    }
}
