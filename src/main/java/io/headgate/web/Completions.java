package io.headgate.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.CallOptions;
import io.grpc.Metadata;
import io.grpc.stub.ClientCalls;
import io.headgate.api.v1.GenerateRequest;
import io.headgate.api.v1.GeneratorGrpc;
import io.headgate.api.v1.ListModelsRequest;
import io.headgate.api.v1.ListModelsResponse;
import io.headgate.api.v1.ModelInfo;
import io.headgate.api.v1.ModelsGrpc;
import io.grpc.Status;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.io.IOException;

/**
 * OpenAI's completions API on the gateway's port, so {@code curl} and OpenAI's client libraries
 * (with the base URL pointed here) stream from Headgate: {@code POST /v1/completions} runs one
 * Generate call ({@link CompletionRequest}, {@link CompletionCall}) and {@code GET /v1/models}
 * lists the language models. No API key is needed (Generate needs none); one sent is ignored.
 */
@ApplicationScoped
public class Completions {

    @Inject
    GatewayChannel gateway;
    @Inject
    ObjectMapper json;

    void routes(@Observes Router router) {
        router.post("/v1/completions").handler(BodyHandler.create(false).setBodyLimit(ConsoleApi.MAX_BODY_BYTES)).handler(this::complete);
        router.get("/v1/models").handler(this::models);
    }

    private void complete(RoutingContext http) {
        CompletionRequest request;
        try {
            String type = http.request().getHeader("Content-Type");
            if (type == null || !type.toLowerCase().startsWith("application/json")) {
                throw new OpenAiError(415, "invalid_request_error", null, null, "Content-Type: send the body as application/json");
            }
            JsonNode body;
            try {
                body = json.readTree(http.body().asString());
            } catch (IOException e) {
                throw OpenAiError.invalid("body", "not valid JSON: " + e.getMessage());
            }
            request = CompletionRequest.parse(body);
        } catch (OpenAiError e) {
            http.response().setStatusCode(e.httpStatus).putHeader("Content-Type", "application/json").end(e.json().toString());
            return;
        }
        CompletionCall call = new CompletionCall(http, request);
        call.start(gateway.to(http.request()), GeneratorGrpc.getGenerateMethod(), new Metadata());
        call.send(GenerateRequest.newBuilder().setStart(request.start()).build(), false);
    }

    private void models(RoutingContext http) {
        var call = gateway.to(http.request()).newCall(ModelsGrpc.getListMethod(), CallOptions.DEFAULT);
        var context = Vertx.currentContext();
        var future = ClientCalls.futureUnaryCall(call, ListModelsRequest.getDefaultInstance());
        future.addListener(() -> context.runOnContext(ignored -> {
            try {
                ListModelsResponse models = future.get();
                ObjectNode body = JsonNodeFactory.instance.objectNode().put("object", "list");
                ArrayNode data = body.putArray("data");
                for (ModelInfo m : models.getModelsList()) {
                    if (!m.getKind().equals("causal-lm")) continue;
                    data.addObject().put("id", m.getName()).put("object", "model").put("created", 0).put("owned_by", "headgate");
                }
                http.response().putHeader("Content-Type", "application/json").end(body.toString());
            } catch (Exception e) {
                OpenAiError error = OpenAiError.of(Status.fromThrowable(e));
                http.response().setStatusCode(error.httpStatus).putHeader("Content-Type", "application/json").end(error.json().toString());
            }
        }), Runnable::run);
    }
}
