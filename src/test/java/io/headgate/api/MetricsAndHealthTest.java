package io.headgate.api;

import io.headgate.api.v1.GenerateEvent;
import io.headgate.api.v1.Steer;
import io.headgate.testing.GrpcStream;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** After traffic, /q/metrics exposes the engine's metrics with the expected names and labels; health reports the model. */
@QuarkusTest
class MetricsAndHealthTest extends GatewayTestBase {

    @TestHTTPResource("/q/metrics")
    URI metrics;

    @TestHTTPResource("/q/health/ready")
    URI ready;

    static String get(URI uri) throws Exception {
        try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) { // as Prometheus scrapes; see GatewayProcess.get
            return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).body();
        }
    }

    @Test
    void metricsAfterTraffic() throws Exception {
        GrpcStream s = GrpcStream.start(generator, start("{(<[()]([{=").setCreditWindow(1).build());
        GenerateEvent started = s.next();
        assertThat(started.hasStarted()).as("the first event").isTrue();
        s.nextToken();
        s.steer(Steer.newBuilder().setSteering(profile("pag-l1")).build());
        s.ack(1000);
        s.rest();
        List<String> streamIds = new ArrayList<>(List.of(started.getStarted().getStreamId()));
        for (String prompt : List.of("((=", "57+681=")) {
            streamIds.add(GrpcStream.start(generator, start(prompt).build()).rest().getFirst().getStarted().getStreamId());
        }
        assertThat(streamIds).doesNotHaveDuplicates().allSatisfy(id -> assertThat(id).startsWith(MODEL + "-").hasSizeGreaterThan(MODEL.length() + 8));

        String text = get(metrics);
        String labels = "arm=\"none\",model=\"parens-lm\",profile=\"identity\"";
        String kindLabels = "arm=\"none\",kind=\"causal-lm\",model=\"parens-lm\",profile=\"identity\"";
        assertThat(text)
                .contains("headgate_time_to_first_token_seconds_bucket{" + labels)
                .contains("headgate_inter_token_latency_seconds_bucket{")
                .contains("headgate_e2e_request_latency_seconds_bucket{")
                .contains("headgate_request_queue_time_seconds_bucket{" + kindLabels)
                .contains("headgate_step_duration_seconds_bucket{kind=\"causal-lm\",model=\"parens-lm\",phase=\"decode\"")
                .contains("headgate_step_duration_seconds_bucket{kind=\"causal-lm\",model=\"parens-lm\",phase=\"prefill\"")
                .contains("headgate_batch_rows_bucket{kind=\"causal-lm\",model=\"parens-lm\"")
                .contains("headgate_generated_tokens_total{" + labels)
                .contains("headgate_active_streams{kind=\"causal-lm\",model=\"parens-lm\"}")
                .contains("headgate_waiting_streams{kind=\"causal-lm\",model=\"parens-lm\"}")
                .contains("headgate_steering_changes_total{arm=\"none\",kind=\"causal-lm\",model=\"parens-lm\",profile=\"pag-l1\"}");
        for (String id : streamIds) {
            String random = id.substring(MODEL.length() + 1); // the id's random part, in case a label carried only that
            assertThat(text).as("no stream id in any metric: one time series per stream would grow without bound")
                    .doesNotContain(id).doesNotContain(random);
        }
    }

    @Test
    void aShadowedStreamReportsTheEffectOnEveryTokenAndFeedsTheEffectMetrics() throws Exception {
        var events = GrpcStream.start(generator, start("{(<[()]([{=").setSteering(profile("pag-l1")).setShadow(true)
                .setMaxTokens(12).setIgnoreEos(true).build()).rest();
        var tokens = GrpcStream.tokens(events);
        assertThat(tokens).hasSize(12).allSatisfy(t -> assertThat(t.hasEffect()).isTrue());
        assertThat(tokens.stream().mapToDouble(t -> t.getEffect().getKl()).max().orElseThrow()).isGreaterThan(0.01);
        assertThat(tokens.stream().anyMatch(t -> t.getEffect().getTop1Changed())).isTrue();
        var plain = GrpcStream.tokens(GrpcStream.start(generator, start("((=").setMaxTokens(3).build()).rest());
        assertThat(plain).allSatisfy(t -> assertThat(t.hasEffect()).isFalse());

        String text = get(metrics);
        assertThat(text)
                .contains("headgate_intervention_kl_bucket{arm=\"none\",model=\"parens-lm\",profile=\"pag-l1\"")
                .contains("headgate_intervention_top1_changed_total{arm=\"none\",model=\"parens-lm\",profile=\"pag-l1\"}");
    }

    @Test
    void readyOnceTheModelIsLoaded() throws Exception {
        String body = get(ready);
        assertThat(body).contains("\"status\": \"UP\"").contains("\"parens-lm\": \"ready\"");
        assertThat(body).as("the registry check, on files").contains("\"name\": \"registry\"").contains("\"backend\": \"files\"")
                .contains("\"profiles\": \"up: files under target/test-profiles\"");
    }
}
