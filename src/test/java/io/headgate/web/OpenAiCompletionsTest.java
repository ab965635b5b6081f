package io.headgate.web;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.StatusRuntimeException;
import io.headgate.api.v1.Finished;
import io.headgate.api.v1.GenerateEvent;
import io.headgate.api.v1.Sampling;
import io.headgate.api.v1.Start;
import io.headgate.api.v1.Steering;
import io.headgate.api.v1.Token;
import io.headgate.server.ModelHost;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URL;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * {@code POST /v1/completions} with plain HTTP, as curl or OpenAI's client libraries send it: the
 * completion is what a Generate call gives for the same request, streamed as {@code data:} chunks
 * ending in {@code [DONE]} or answered whole, and every refusal is in OpenAI's error shape naming
 * the parameter, with its HTTP status.
 */
@QuarkusTest
class OpenAiCompletionsTest {

    static final String PROMPT = "{(<[()]([{=";

    @TestHTTPResource("/v1/completions")
    URL completions;

    @TestHTTPResource("/v1/models")
    URL models;

    @Inject
    ModelHost host;

    GrpcReference grpc;

    @BeforeEach
    void connect() throws InterruptedException {
        assertThat(host.awaitLoaded(120, TimeUnit.SECONDS)).isTrue();
        grpc = new GrpcReference(completions.getPort());
    }

    @AfterEach
    void disconnect() throws InterruptedException {
        grpc.close();
    }

    URI uri() {
        return URI.create(completions.toString());
    }

    /** The tokens and Finished of the Generate call the completion request stands for. */
    List<GenerateEvent> reference(Start start) {
        return grpc.generate(start, 0, null);
    }

    static String text(List<GenerateEvent> events) {
        return events.stream().filter(GenerateEvent::hasToken).map(e -> e.getToken().getText()).collect(Collectors.joining())
                + events.getLast().getFinished().getText();
    }

    @Test
    void aCompletionIsTheGenerateCallsTextUnderTheSteering() {
        Http.Reply r = Http.post(uri(), """
                {"model": "parens-lm", "prompt": "%s", "max_tokens": 20, "temperature": 0, "steering": "pag-l1", "logprobs": 0, "user": "test"}"""
                .formatted(PROMPT));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode body = r.json();
        List<GenerateEvent> expected = reference(Start.newBuilder().setModel("parens-lm").setText(PROMPT).setMaxTokens(20)
                .setSteering(Steering.newBuilder().setProfile("pag-l1")).build());
        Finished finished = expected.getLast().getFinished();

        assertThat(body.get("object").asText()).isEqualTo("text_completion");
        assertThat(body.get("id").asText()).startsWith("cmpl-parens-lm-");
        assertThat(body.get("model").asText()).isEqualTo("parens-lm");
        assertThat(body.get("created").asLong()).isPositive();
        JsonNode choice = body.at("/choices/0");
        assertThat(body.get("choices")).hasSize(1);
        assertThat(choice.get("text").asText()).isEqualTo(text(expected));
        assertThat(choice.get("finish_reason").asText()).isEqualTo(finished.getReason() == Finished.Reason.MAX_TOKENS ? "length" : "stop");
        assertThat(choice.at("/steering/profile").asText()).isEqualTo("pag-l1");
        assertThat(choice.at("/steering/revision").asLong()).isEqualTo(1);
        List<Token> tokens = expected.stream().filter(GenerateEvent::hasToken).map(GenerateEvent::getToken).toList();
        JsonNode logprobs = choice.get("logprobs");
        assertThat(logprobs.get("token_logprobs")).hasSize(tokens.size());
        for (int i = 0; i < tokens.size(); i++) {
            assertThat(logprobs.at("/tokens/" + i).asText()).isEqualTo(tokens.get(i).getText());
            assertThat((float) logprobs.at("/token_logprobs/" + i).asDouble()).isEqualTo(tokens.get(i).getLogprob());
        }
        assertThat(body.at("/usage/prompt_tokens").asInt()).isEqualTo(finished.getPromptTokens());
        assertThat(body.at("/usage/completion_tokens").asInt()).isEqualTo(finished.getCompletionTokens());
        assertThat(body.at("/usage/total_tokens").asInt()).isEqualTo(finished.getPromptTokens() + finished.getCompletionTokens());
    }

    @Test
    void aStreamedCompletionArrivesAsDataChunksEndingInDone() {
        String request = """
                {"model": "parens-lm", "prompt": "57+681=", "max_tokens": 10, "temperature": 0.8, "seed": 42,
                 "steering": {"gains": [{"layer": 3, "head": -1, "gain": 0}]}, "stream": true, "stream_options": {"include_usage": true}}""";
        List<GenerateEvent> expected = reference(Start.newBuilder().setModel("parens-lm").setText("57+681=").setMaxTokens(10)
                .setSampling(Sampling.newBuilder().setTemperature(0.8f).setTopP(1).setSeed(42))
                .setSteering(Steering.newBuilder().setInline(io.headgate.api.v1.ProfileSpec.newBuilder()
                        .addGains(io.headgate.api.v1.HeadGain.newBuilder().setLayer(3).setHead(-1).setGain(0)))).build());
        try (Http.Events events = new Http.Events(uri(), request)) {
            assertThat(events.status()).isEqualTo(200);
            List<Http.Event> all = events.rest(30);
            assertThat(all).allMatch(e -> e.name().equals("message"));
            assertThat(all.getLast().data()).isEqualTo("[DONE]");
            List<JsonNode> chunks = new ArrayList<>();
            for (Http.Event e : all.subList(0, all.size() - 1)) chunks.add(e.json());
            JsonNode usage = chunks.removeLast();
            assertThat(usage.get("choices")).isEmpty();
            assertThat(usage.at("/usage/completion_tokens").asInt()).isEqualTo(expected.getLast().getFinished().getCompletionTokens());
            StringBuilder text = new StringBuilder();
            for (JsonNode c : chunks) {
                assertThat(c.get("object").asText()).isEqualTo("text_completion");
                assertThat(c.get("id").asText()).isEqualTo(chunks.getFirst().get("id").asText());
                assertThat(c.at("/choices/0/steering/profile").asText()).isEqualTo("inline");
                text.append(c.at("/choices/0/text").asText());
            }
            assertThat(chunks.subList(0, chunks.size() - 1)).allMatch(c -> c.at("/choices/0/finish_reason").isNull());
            assertThat(chunks.getLast().at("/choices/0/finish_reason").asText()).isIn("stop", "length");
            assertThat(text.toString()).isEqualTo(text(expected));
        }
    }

    @Test
    void unsupportedAndBadParametersAreRefusedInOpenAisShapeNamingTheParameter() {
        record Case(String body, int status, String param, String type, String messageStart) {
        }
        String ok = "\"model\": \"parens-lm\", \"prompt\": \"((\"";
        for (Case c : List.of(
                new Case("{" + ok + ", \"n\": 2}", 400, "n", "invalid_request_error", "n: only 1 completion"),
                new Case("{" + ok + ", \"best_of\": 3}", 400, "best_of", "invalid_request_error", "best_of:"),
                new Case("{" + ok + ", \"echo\": true}", 400, "echo", "invalid_request_error", "echo:"),
                new Case("{" + ok + ", \"logprobs\": 3}", 400, "logprobs", "invalid_request_error", "logprobs:"),
                new Case("{" + ok + ", \"presence_penalty\": 0.5}", 400, "presence_penalty", "invalid_request_error", "presence_penalty:"),
                new Case("{" + ok + ", \"logit_bias\": {\"5\": 10}}", 400, "logit_bias", "invalid_request_error", "logit_bias:"),
                new Case("{" + ok + ", \"suffix\": \"]]\"}", 400, "suffix", "invalid_request_error", "suffix:"),
                new Case("{" + ok + ", \"functions\": []}", 400, "functions", "invalid_request_error", "functions: unrecognized"),
                new Case("{" + ok + ", \"max_tokens\": \"ten\"}", 400, "max_tokens", "invalid_request_error", "max_tokens: must be an integer"),
                new Case("{\"model\": \"parens-lm\", \"prompt\": [\"((\", \"[[\"]}", 400, "prompt", "invalid_request_error", "prompt: one prompt per request"),
                new Case("{\"prompt\": \"((\"}", 400, "model", "invalid_request_error", "model: required"),
                new Case("{" + ok + ", \"stream_options\": {\"include_usage\": true}}", 400, "stream_options", "invalid_request_error", "stream_options:"))) {
            Http.Reply r = Http.post(uri(), c.body());
            assertThat(r.status()).as(c.body()).isEqualTo(c.status());
            JsonNode error = r.json().get("error");
            assertThat(error.get("param").asText()).as(c.body()).isEqualTo(c.param());
            assertThat(error.get("type").asText()).isEqualTo(c.type());
            assertThat(error.get("message").asText()).as(c.body()).startsWith(c.messageStart());
            assertThat(error.has("code")).isTrue();
        }
    }

    /** What Generate refuses is refused here with its status and description, the field rewritten to the parameter. */
    @Test
    void generatesRefusalsComeBackWithTheirStatusAndTheParameter() {
        record Case(String body, boolean stream, Start start, int status, String param, String code, String messagePrefix) {
        }
        Start.Builder lm = Start.newBuilder().setModel("parens-lm").setText("((").setMaxTokens(16);
        for (Case c : List.of(
                new Case("{\"model\": \"gpt-4\", \"prompt\": \"((\"}", false, lm.clone().setModel("gpt-4").build(), 404, "model", "model_not_found", "model: "),
                new Case("{\"model\": \"gpt-4\", \"prompt\": \"((\", \"stream\": true}", true, lm.clone().setModel("gpt-4").build(), 404, "model", "model_not_found", "model: "),
                new Case("{\"model\": \"digits-dit\", \"prompt\": \"((\"}", false, lm.clone().setModel("digits-dit").build(), 400, "model", null, "model: "),
                new Case("{\"model\": \"parens-lm\", \"prompt\": \"((\", \"max_tokens\": 100000, \"temperature\": 0}", false, lm.clone().setMaxTokens(100000).build(),
                        400, "max_tokens", null, "max_tokens: "),
                new Case("{\"model\": \"parens-lm\", \"prompt\": \"((\", \"temperature\": -1}", false,
                        lm.clone().setSampling(Sampling.newBuilder().setTemperature(-1).setTopP(1)).build(), 400, "temperature", null, "temperature: "),
                new Case("{\"model\": \"parens-lm\", \"prompt\": \"\", \"temperature\": 0}", false, lm.clone().setText("").build(), 400, "prompt", null, "prompt: "),
                new Case("{\"model\": \"parens-lm\", \"prompt\": [1, 99], \"temperature\": 0}", false,
                        lm.clone().setTokenIds(io.headgate.api.v1.TokenIds.newBuilder().addIds(1).addIds(99)).build(), 400, "prompt", null, "prompt[1]: "),
                new Case("{\"model\": \"parens-lm\", \"prompt\": \"((\", \"temperature\": 0, \"steering\": \"no-such\"}", false,
                        lm.clone().setSteering(Steering.newBuilder().setProfile("no-such")).build(), 404, "steering", null, "steering: "),
                new Case("{\"model\": \"parens-lm\", \"prompt\": \"((\", \"temperature\": 0, \"steering\": {\"gains\": [{\"layer\": 9, \"head\": 0, \"gain\": 1}]}}", false,
                        lm.clone().setSteering(Steering.newBuilder().setInline(io.headgate.api.v1.ProfileSpec.newBuilder()
                                .addGains(io.headgate.api.v1.HeadGain.newBuilder().setLayer(9).setGain(1)))).build(), 400, "steering", null, "steering.gains[0].layer: "))) {
            var grpcStatus = catchThrowableOfType(StatusRuntimeException.class, () -> reference(c.start())).getStatus();
            String grpcReason = GrpcHttpStatus.reason(grpcStatus.getDescription());
            Http.Reply r = c.stream() ? streamed(c.body()) : Http.post(uri(), c.body());
            assertThat(r.status()).as(c.body()).isEqualTo(c.status());
            assertThat(r.contentType()).startsWith("application/json");
            JsonNode error = r.json().get("error");
            assertThat(error.get("param").asText()).as(c.body()).isEqualTo(c.param());
            assertThat(error.get("message").asText()).as(c.body()).isEqualTo(c.messagePrefix() + grpcReason);
            if (c.code() == null) assertThat(error.get("code").isNull()).isTrue();
            else assertThat(error.get("code").asText()).isEqualTo(c.code());
        }
    }

    private Http.Reply streamed(String body) {
        try (Http.Events events = new Http.Events(uri(), body)) {
            return new Http.Reply(events.status(), "application/json", events.refusal());
        }
    }

    @Test
    void onlyJsonBodiesAreRead() {
        Http.Reply form = Http.post(uri(), "model=parens-lm&prompt=((", Map.of("Content-Type", "application/x-www-form-urlencoded"));
        assertThat(form.status()).isEqualTo(415);
        assertThat(form.json().at("/error/type").asText()).isEqualTo("invalid_request_error");
        Http.Reply broken = Http.post(uri(), "{\"model\": ");
        assertThat(broken.status()).isEqualTo(400);
        assertThat(broken.json().at("/error/param").asText()).isEqualTo("body");
    }

    @Test
    void modelsListsTheLanguageModels() {
        JsonNode body = Http.get(URI.create(models.toString())).json();
        assertThat(body.get("object").asText()).isEqualTo("list");
        List<String> ids = new ArrayList<>();
        body.get("data").forEach(m -> ids.add(m.get("id").asText()));
        List<String> lms = host.entries().values().stream().filter(e -> e.model() != null && e.model().manifest().kind().equals("causal-lm"))
                .map(ModelHost.Entry::name).sorted().toList();
        assertThat(ids).containsExactlyInAnyOrderElementsOf(lms).contains("parens-lm").doesNotContain("digits-dit");
    }
}
