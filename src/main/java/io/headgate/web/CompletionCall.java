package io.headgate.web;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.Status;
import io.headgate.api.v1.Finished;
import io.headgate.api.v1.GenerateEvent;
import io.headgate.api.v1.GenerateRequest;
import io.headgate.api.v1.SteeringTag;
import io.headgate.api.v1.Token;
import io.vertx.ext.web.RoutingContext;

/**
 * One {@code /v1/completions} request as a Generate call, answered in OpenAI's shapes: one
 * {@code text_completion} object, or (streaming) a chunk per token as {@code data:} events, a last
 * chunk with the finish reason, optionally one with the usage, then {@code data: [DONE]}. Each
 * choice also says which profile and revision it was computed under ({@code steering}, an
 * extension OpenAI's clients ignore).
 */
final class CompletionCall extends HttpRelay<GenerateRequest, GenerateEvent> {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private final CompletionRequest request;
    private final long created = System.currentTimeMillis() / 1000;
    private String id = "cmpl";
    private SteeringTag steering;
    private final StringBuilder text = new StringBuilder();
    private final ArrayNode tokens = JSON.arrayNode(), tokenLogprobs = JSON.arrayNode(), textOffsets = JSON.arrayNode();
    private boolean committed, answered;

    CompletionCall(RoutingContext http, CompletionRequest request) {
        super(http);
        this.request = request;
    }

    @Override
    void message(GenerateEvent event) {
        if (!writable()) return;
        switch (event.getKindCase()) {
            case STARTED -> {
                id = "cmpl-" + event.getStarted().getStreamId();
                steering = event.getStarted().getSteering();
                if (request.stream()) {
                    committed = true;
                    Sse.begin(http.response());
                }
            }
            case TOKEN -> token(event.getToken());
            case FINISHED -> finished(event.getFinished());
            default -> {
                // steering events: this API never steers a running stream
            }
        }
    }

    private void token(Token t) {
        steering = t.getSteering();
        if (request.stream()) {
            ObjectNode choice = choice(t.getText(), null);
            if (request.logprobs()) {
                choice.set("logprobs", logprobs(JSON.arrayNode().add(t.getText()), JSON.arrayNode().add(t.getLogprob()),
                        JSON.arrayNode().add(text.length())));
            }
            text.append(t.getText());
            Sse.event(http.response(), null, chunk(choice).toString());
            return;
        }
        tokens.add(t.getText());
        tokenLogprobs.add(t.getLogprob());
        textOffsets.add(text.length());
        text.append(t.getText());
    }

    private void finished(Finished f) {
        halfClose();
        String reason = switch (f.getReason()) {
            case EOS, STOP -> "stop";
            case MAX_TOKENS, MAX_LENGTH -> "length";
            default -> null;
        };
        if (reason == null) {
            fail(new OpenAiError(503, "server_error", null, null, "the stream ended early: " + f.getReason()
                    + (f.getReason() == Finished.Reason.SHUTDOWN ? " (the server is shutting down; retry)" : "")));
            return;
        }
        answered = true;
        ObjectNode usage = JSON.objectNode()
                .put("prompt_tokens", f.getPromptTokens())
                .put("completion_tokens", f.getCompletionTokens())
                .put("total_tokens", f.getPromptTokens() + f.getCompletionTokens());
        if (request.stream()) {
            Sse.event(http.response(), null, chunk(choice(f.getText(), reason)).toString());
            if (request.includeUsage()) {
                ObjectNode last = completion();
                last.putArray("choices");
                last.set("usage", usage);
                Sse.event(http.response(), null, last.toString());
            }
            Sse.event(http.response(), null, "[DONE]");
            http.response().end();
            return;
        }
        text.append(f.getText());
        ObjectNode choice = choice(text.toString(), reason);
        if (request.logprobs()) choice.set("logprobs", logprobs(tokens, tokenLogprobs, textOffsets));
        ObjectNode body = completion();
        body.putArray("choices").add(choice);
        body.set("usage", usage);
        http.response().setStatusCode(200).putHeader("Content-Type", "application/json").end(body.toString());
    }

    @Override
    void ended(Status status) {
        if (!writable() || answered) return;
        fail(status.isOk() ? new OpenAiError(500, "server_error", null, null, "the generation ended without a result") : OpenAiError.of(status));
    }

    private void fail(OpenAiError e) {
        answered = true;
        if (committed) {
            Sse.event(http.response(), null, e.json().toString());
            http.response().end();
        } else {
            http.response().setStatusCode(e.httpStatus).putHeader("Content-Type", "application/json").end(e.json().toString());
        }
    }

    // ------------------------------------------------------------------ OpenAI's objects

    private ObjectNode completion() {
        return JSON.objectNode()
                .put("id", id)
                .put("object", "text_completion")
                .put("created", created)
                .put("model", request.start().getModel());
    }

    private ObjectNode chunk(ObjectNode choice) {
        ObjectNode chunk = completion();
        chunk.putArray("choices").add(choice);
        return chunk;
    }

    private ObjectNode choice(String text, String finishReason) {
        ObjectNode choice = JSON.objectNode().put("text", text).put("index", 0);
        choice.putNull("logprobs");
        if (finishReason == null) choice.putNull("finish_reason"); else choice.put("finish_reason", finishReason);
        if (steering != null) choice.putObject("steering").put("profile", steering.getProfile()).put("revision", steering.getRevision());
        return choice;
    }

    private static ObjectNode logprobs(ArrayNode tokens, ArrayNode logprobs, ArrayNode offsets) {
        ObjectNode l = JSON.objectNode();
        l.set("tokens", tokens);
        l.set("token_logprobs", logprobs);
        l.putNull("top_logprobs");
        l.set("text_offset", offsets);
        return l;
    }
}
