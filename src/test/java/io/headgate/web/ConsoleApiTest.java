package io.headgate.web;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.StatusRuntimeException;
import io.headgate.api.v1.GenerateEvent;
import io.headgate.api.v1.GetProfileRequest;
import io.headgate.api.v1.HeadGain;
import io.headgate.api.v1.ProfileSpec;
import io.headgate.api.v1.PutProfileRequest;
import io.headgate.api.v1.Start;
import io.headgate.api.v1.Steering;
import io.headgate.server.ModelHost;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

/**
 * The console's transport over plain HTTP: unary methods as JSON, streams as Server-Sent Events
 * steered, acknowledged and observed by POSTs, and every refusal the gRPC API's own (same status,
 * same description), the admin rule included.
 */
@QuarkusTest
class ConsoleApiTest {

    static final String MODEL = "parens-lm";
    static final String PROMPT = "{(<[()]([{=";

    @TestHTTPResource("/")
    URL base;

    @Inject
    ModelHost host;

    GrpcReference grpc;

    @BeforeEach
    void connect() throws InterruptedException {
        assertThat(host.awaitLoaded(120, TimeUnit.SECONDS)).isTrue();
        grpc = new GrpcReference(base.getPort());
    }

    @AfterEach
    void disconnect() throws InterruptedException {
        grpc.close();
    }

    URI uri(String path) {
        return URI.create(base.toString().replaceAll("/$", "") + path);
    }

    @Test
    void unaryMethodsAnswerJsonAndAdminMethodsNeedTheToken() {
        Http.Reply models = Http.post(uri("/api/Models/List"), "{}");
        assertThat(models.status()).isEqualTo(200);
        assertThat(models.contentType()).startsWith("application/json");
        JsonNode lm = null;
        for (JsonNode m : models.json().get("models")) if (m.get("name").asText().equals(MODEL)) lm = m;
        assertThat(lm).isNotNull();
        var dims = host.entry(MODEL).model().manifest().dimensions();
        assertThat(lm.get("layers").asInt()).isEqualTo(dims.layers());
        assertThat(lm.get("heads").asInt()).isEqualTo(dims.heads());
        assertThat(lm.get("kind").asText()).isEqualTo("causal-lm");

        String name = "console-api-" + Long.toHexString(System.nanoTime()); // the test registry outlives a run
        String put = """
                {"model": "parens-lm", "name": "%s", "spec": {"gains": [{"layer": 2, "head": 5, "gain": 0.5}]}}""".formatted(name);
        Http.Reply anonymous = Http.post(uri("/api/Profiles/Put"), put);
        assertThat(anonymous.status()).isEqualTo(401);
        assertThat(anonymous.json().at("/error/code").asText()).isEqualTo("UNAUTHENTICATED");
        assertThat(anonymous.json().at("/error/field").asText()).isEqualTo("authorization");
        Http.Reply wrong = Http.post(uri("/api/Profiles/Put"), put, Map.of("Authorization", "Bearer not-the-token"));
        assertThat(wrong.status()).isEqualTo(401);
        assertThat(wrong.json().at("/error/message").asText()).isEqualTo("authorization: the admin token is wrong");
        assertThat(catchThrowableOfType(StatusRuntimeException.class, () -> grpc.admin().get(GetProfileRequest.newBuilder()
                .setModel(MODEL).setName(name).build())).getStatus().getCode().name()).isEqualTo("NOT_FOUND");

        Http.Reply stored = Http.post(uri("/api/Profiles/Put"), put, Map.of("Authorization", "Bearer " + GrpcReference.ADMIN_TOKEN));
        assertThat(stored.status()).as(stored.body()).isEqualTo(200);
        assertThat(stored.json().get("revision").asText()).isEqualTo("1");
        var viaGrpc = grpc.admin().get(GetProfileRequest.newBuilder().setModel(MODEL).setName(name).build());
        assertThat(viaGrpc.getRevision()).isEqualTo(1);
        assertThat(viaGrpc.getSpec().getGainsList()).containsExactly(HeadGain.newBuilder().setLayer(2).setHead(5).setGain(0.5f).build());

        // a refusal is the gRPC API's own: the same status and description as a gRPC client gets
        String bad = """
                {"model": "parens-lm", "name": "%s", "spec": {"gains": [{"layer": 9, "head": 0, "gain": 1}]}, "expected_revision": 1}""".formatted(name);
        Http.Reply refused = Http.post(uri("/api/Profiles/Put"), bad, Map.of("Authorization", "Bearer " + GrpcReference.ADMIN_TOKEN));
        var grpcRefusal = catchThrowableOfType(StatusRuntimeException.class, () -> grpc.admin().put(PutProfileRequest.newBuilder().setModel(MODEL)
                .setName(name).setExpectedRevision(1).setSpec(ProfileSpec.newBuilder().addGains(HeadGain.newBuilder().setLayer(9).setGain(1))).build()))
                .getStatus();
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.json().at("/error/code").asText()).isEqualTo(grpcRefusal.getCode().name());
        assertThat(refused.json().at("/error/message").asText()).isEqualTo(grpcRefusal.getDescription());
        assertThat(refused.json().at("/error/field").asText()).isEqualTo("spec.gains[0].layer");
    }

    @Test
    void requestsThatAreNotTheApisAreRefusedNamingWhy() {
        Http.Reply unknown = Http.post(uri("/api/Profiles/Rename"), "{}");
        assertThat(unknown.status()).isEqualTo(501);
        assertThat(unknown.json().at("/error/message").asText()).startsWith("path: no method Profiles/Rename").contains("Generator/Generate");
        Http.Reply form = Http.post(uri("/api/Models/List"), "{}", Map.of("Content-Type", "text/plain"));
        assertThat(form.status()).isEqualTo(415);
        assertThat(form.json().at("/error/field").asText()).isEqualTo("Content-Type");
        Http.Reply notJson = Http.post(uri("/api/Models/Describe"), "{model: ");
        assertThat(notJson.status()).isEqualTo(400);
        assertThat(notJson.json().at("/error/field").asText()).isEqualTo("body");
        Http.Reply wrongField = Http.post(uri("/api/Models/Describe"), "{\"modle\": \"parens-lm\"}");
        assertThat(wrongField.status()).isEqualTo(400);
        assertThat(wrongField.json().at("/error/message").asText()).contains("modle");
    }

    @Test
    void aBadStartFailsWithTheGrpcStatusAsHttp() {
        record Case(String start, int http, Start grpcStart) {
        }
        for (Case c : List.of(
                new Case("{\"model\": \"nope\", \"text\": \"((\"}", 404, Start.newBuilder().setModel("nope").setText("((").build()),
                new Case("{\"model\": \"parens-lm\", \"text\": \"((\", \"max_tokens\": 100000}", 400,
                        Start.newBuilder().setModel(MODEL).setText("((").setMaxTokens(100000).build()),
                new Case("{\"model\": \"digits-dit\", \"text\": \"((\"}", 400, Start.newBuilder().setModel("digits-dit").setText("((").build()),
                new Case("{\"model\": \"parens-lm\", \"text\": \"((\", \"steering\": {\"profile\": \"no-such\"}}", 404,
                        Start.newBuilder().setModel(MODEL).setText("((").setSteering(Steering.newBuilder().setProfile("no-such")).build()))) {
            try (Http.Events events = new Http.Events(uri("/api/Generator/Generate"), c.start())) {
                var expected = catchThrowableOfType(StatusRuntimeException.class, () -> grpc.generate(c.grpcStart(), 0, null)).getStatus();
                assertThat(events.status()).as(c.start()).isEqualTo(c.http());
                JsonNode error = Http.JSON.readTree(events.refusal()).get("error");
                assertThat(error.get("code").asText()).isEqualTo(expected.getCode().name());
                assertThat(error.get("message").asText()).isEqualTo(expected.getDescription());
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            }
        }
    }

    /**
     * Held by its credit window, a stream stops after two tokens; a steer POST then an ack POST move
     * it on under the new profile from token 2, token for token what a gRPC client doing the same gets.
     */
    @Test
    void aStreamIsSteeredAndAcknowledgedByPostsAsOverGrpc() {
        String start = "{\"model\": \"parens-lm\", \"text\": \"" + PROMPT + "\", \"max_tokens\": 12, \"ignore_eos\": true, \"credit_window\": 2}";
        try (Http.Events events = new Http.Events(uri("/api/Generator/Generate"), start)) {
            assertThat(events.status()).isEqualTo(200);
            Http.Event id = events.next(10);
            assertThat(id.name()).isEqualTo("stream");
            String stream = id.json().get("id").asText();
            assertThat(stream).matches("[0-9a-f]{32}");
            assertThat(events.next(10).name()).isEqualTo("started");
            List<JsonNode> tokens = new ArrayList<>();
            tokens.add(expect(events.next(10), "token"));
            tokens.add(expect(events.next(10), "token"));
            assertThat(events.poll(0.5)).as("out of credit after two tokens").isNull();

            Http.Reply rejected = Http.post(uri("/api/streams/" + stream + "/steer"), "{\"steering\": {\"profile\": \"no-such\"}}");
            assertThat(rejected.status()).isEqualTo(202);
            JsonNode rejection = expect(events.next(10), "steering_rejected");
            assertThat(rejection.get("field").asText()).isEqualTo("steer.steering.profile");

            assertThat(Http.post(uri("/api/streams/" + stream + "/steer"), "{\"steering\": {\"profile\": \"pag-l1\"}}").status()).isEqualTo(202);
            assertThat(Http.post(uri("/api/streams/" + stream + "/ack"), "{\"consumed\": 2}").status()).isEqualTo(202);
            JsonNode applied = expect(events.next(10), "steering_applied");
            assertThat(applied.get("from_index").asInt()).isEqualTo(2);
            assertThat(applied.at("/steering/profile").asText()).isEqualTo("pag-l1");
            for (int i = 2; i < 12; i++) {
                tokens.add(expect(events.next(10), "token"));
                Http.post(uri("/api/streams/" + stream + "/ack"), "{\"consumed\": " + (i + 1) + "}");
            }
            assertThat(expect(events.next(10), "finished").get("reason").asText()).isEqualTo("MAX_TOKENS");
            assertThat(events.endsWithin(10)).isTrue();
            assertThat(Http.post(uri("/api/streams/" + stream + "/ack"), "{\"consumed\": 12}").status()).as("the stream has ended").isEqualTo(404);

            List<GenerateEvent> reference = grpc.generate(Start.newBuilder().setModel(MODEL).setText(PROMPT).setMaxTokens(12).setIgnoreEos(true)
                    .setCreditWindow(2).build(), 2, "pag-l1");
            List<io.headgate.api.v1.Token> expected = reference.stream().filter(GenerateEvent::hasToken).map(GenerateEvent::getToken).toList();
            assertThat(tokens).hasSize(expected.size());
            for (int i = 0; i < tokens.size(); i++) {
                JsonNode t = tokens.get(i);
                assertThat(t.get("index").asInt()).isEqualTo(i);
                assertThat(t.get("id").asLong()).as("token %d", i).isEqualTo(expected.get(i).getId());
                assertThat((float) t.get("logprob").asDouble()).as("token %d", i).isEqualTo(expected.get(i).getLogprob());
                assertThat(t.at("/steering/profile").asText()).isEqualTo(i < 2 ? "identity" : "pag-l1");
            }
        }
    }

    @Test
    void streamMessagesNeedARunningStreamAndAMessageOfItsKind() {
        Http.Reply none = Http.post(uri("/api/streams/0123456789abcdef0123456789abcdef/steer"), "{}");
        assertThat(none.status()).isEqualTo(404);
        assertThat(none.json().at("/error/field").asText()).isEqualTo("id");
        String start = "{\"model\": \"parens-lm\", \"text\": \"((\", \"max_tokens\": 8, \"ignore_eos\": true, \"credit_window\": 1}";
        try (Http.Events events = new Http.Events(uri("/api/Generator/Generate"), start)) {
            String stream = events.next(10).json().get("id").asText();
            for (String message : List.of("start", "observe")) {
                Http.Reply wrong = Http.post(uri("/api/streams/" + stream + "/" + message), "{}");
                assertThat(wrong.status()).as(message).isEqualTo(400);
                assertThat(wrong.json().at("/error/message").asText()).isEqualTo("message: '" + message + "' is not a message of this stream; send one of steer, ack");
            }
            Http.Reply badAck = Http.post(uri("/api/streams/" + stream + "/ack"), "{\"consumed\": \"many\"}");
            assertThat(badAck.status()).isEqualTo(400);
            assertThat(badAck.json().at("/error/field").asText()).isEqualTo("ack");
        }
    }

    @Test
    void deletingOrClosingAStreamCancelsItAndFreesItsSlot() {
        var scheduler = host.entry(MODEL).model().scheduler();
        String start = "{\"model\": \"parens-lm\", \"text\": \"((\", \"max_tokens\": 40, \"ignore_eos\": true, \"credit_window\": 1}";
        try (Http.Events events = new Http.Events(uri("/api/Generator/Generate"), start)) {
            String stream = events.next(10).json().get("id").asText();
            expect(events.next(10), "started");
            expect(events.next(10), "token");
            assertThat(scheduler.activeStreams()).isEqualTo(1);
            assertThat(Http.delete(uri("/api/streams/" + stream)).status()).isEqualTo(202);
            JsonNode cancelled = expect(events.next(10), "error").get("error");
            assertThat(cancelled.get("code").asText()).isEqualTo("CANCELLED");
            assertThat(events.endsWithin(10)).as("no Finished: the call was cancelled").isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() -> scheduler.activeStreams() == 0);
            assertThat(Http.post(uri("/api/streams/" + stream + "/ack"), "{\"consumed\": 1}").status()).isEqualTo(404);
        }
        Http.Events dropped = new Http.Events(uri("/api/Generator/Generate"), start);
        expect(dropped.next(10), "stream");
        expect(dropped.next(10), "started");
        await().atMost(Duration.ofSeconds(10)).until(() -> scheduler.activeStreams() == 1);
        dropped.close(); // the browser tab went away
        await().atMost(Duration.ofSeconds(10)).until(() -> scheduler.activeStreams() == 0);
    }

    @Test
    void forecastsAreObservedAndClosedByPosts() {
        StringBuilder context = new StringBuilder();
        for (int i = 0; i < 48; i++) context.append(i == 0 ? "" : ", ").append(100 + 10 * Math.sin(2 * Math.PI * i / 12));
        String start = "{\"model\": \"series-tsfm\", \"context\": [" + context + "], \"frequency\": \"monthly\", \"horizon\": 6, \"compare\": [{\"profile\": \"prune-2\"}]}";
        try (Http.Events events = new Http.Events(uri("/api/Forecaster/Forecast"), start)) {
            assertThat(events.status()).as(String.valueOf(events.refusal())).isEqualTo(200);
            String stream = events.next(10).json().get("id").asText();
            JsonNode started = expect(events.next(10), "started");
            assertThat(started.get("profiles").toString()).isEqualTo("[\"identity\",\"prune-2\"]");
            JsonNode issued = expect(events.next(10), "forecast");
            assertThat(issued.get("origin").asLong()).isEqualTo(48);
            assertThat(issued.get("profiles")).hasSize(2);
            assertThat(issued.at("/profiles/0/median")).hasSize(6);
            double actual = 100.5;
            assertThat(Http.post(uri("/api/streams/" + stream + "/observe"), "{\"values\": [" + actual + ", \"NaN\"]}").status()).isEqualTo(202);
            JsonNode scored = expect(events.next(10), "scored");
            assertThat(scored.get("index").asLong()).isEqualTo(49);
            // one observed step so far, scored against the first forecast's first step
            double median = issued.at("/profiles/0/median/0").asDouble();
            assertThat(scored.at("/profiles/0/mae").asDouble()).isCloseTo(Math.abs(actual - median), org.assertj.core.data.Offset.offset(1e-9));
            assertThat(Http.post(uri("/api/streams/" + stream + "/close"), "{}").status()).isEqualTo(202);
            List<Http.Event> rest = events.rest(10);
            JsonNode finished = rest.stream().filter(e -> e.name().equals("finished")).findFirst().orElseThrow().json();
            assertThat(finished.get("reason").asText()).isEqualTo("CLOSED");
            assertThat(finished.get("observations").asLong()).isEqualTo(2);
        }
    }

    @Test
    void aScanStreamsItsProgressThenItsResult() {
        try (Http.Events events = new Http.Events(uri("/api/Discovery/Scan"), "{\"model\": \"parens-lm\", \"builtin\": \"brackets\", \"limit\": 8}")) {
            List<Http.Event> all = events.rest(60);
            assertThat(all).isNotEmpty();
            assertThat(all.subList(0, all.size() - 1)).allMatch(e -> e.name().equals("progress"));
            JsonNode result = expect(all.getLast(), "result");
            assertThat(result.get("examples").asInt()).isEqualTo(8);
            assertThat(result.get("attribution_mean")).hasSize(result.get("layers").asInt() * result.get("heads").asInt());
        }
    }

    static JsonNode expect(Http.Event e, String name) {
        assertThat(e.name()).as(e.data()).isEqualTo(name);
        return e.json();
    }
}
