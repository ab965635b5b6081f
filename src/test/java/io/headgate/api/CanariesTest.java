package io.headgate.api;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.headgate.api.v1.Discovery;
import io.headgate.api.v1.EvaluateRequest;
import io.headgate.api.v1.GroupAccuracy;
import io.headgate.effect.Probe;
import io.quarkus.grpc.GrpcClient;
import java.time.Duration;
import io.headgate.effect.ProbeSets;
import io.headgate.model.lm.CausalLmGraph;
import io.headgate.server.Canaries;
import io.headgate.model.ControlRow;
import io.headgate.testing.GrpcStream;
import io.headgate.testing.ParensLm;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

/** Canary runs export accuracy per model, profile and task; identity's equals an offline evaluation. */
@QuarkusTest
class CanariesTest extends GatewayTestBase {

    @Inject
    Canaries canaries;

    @Inject
    io.headgate.steer.ExperimentRegistry experiments;

    @GrpcClient("headgate")
    Discovery discovery;

    @TestHTTPResource("/q/metrics")
    URI metrics;

    @Test
    void canaryAccuracyForIdentityAndProfilesInUse() throws Exception {
        GrpcStream.start(generator, start("((=").setSteering(profile("ablate-l3")).build()).rest();
        String experiment = "canary-" + System.nanoTime();
        experiments.put(MODEL, experiment, new io.headgate.steer.ExperimentSpec("arms for the canary test", List.of(
                new io.headgate.steer.Arm("base", "identity", 1), new io.headgate.steer.Arm("gated", "ablate-l3", 1))), 0);
        canaries.runNow();
        String text = MetricsAndHealthTest.get(metrics);
        assertThat(text).contains("headgate_canary_accuracy{arm=\"none\",model=\"parens-lm\",profile=\"ablate-l3\",task=\"brackets\"}")
                .contains("headgate_canary_accuracy{arm=\"gated\",model=\"parens-lm\",profile=\"ablate-l3\",task=\"brackets\"}")
                .contains("headgate_canary_accuracy{arm=\"base\",model=\"parens-lm\",profile=\"identity\",task=\"addition\"}")
                .contains("headgate_canary_accuracy{arm=\"none\",model=\"parens-lm\",profile=\"identity\",task=\"addition\"}");

        double exported = text.lines().filter(l -> l.startsWith("headgate_canary_accuracy{arm=\"none\",model=\"parens-lm\",profile=\"identity\",task=\"brackets\"}"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst().orElseThrow();
        List<Probe> probes = ProbeSets.parensLm(ProbeSets.BRACKETS, 10, Canaries.SEED);
        int correct = 0;
        try (CausalLmGraph graph = ParensLm.graph()) {
            var identity = ControlRow.identity(graph.manifest().dimensions());
            for (Probe p : probes) {
                int max = p.answer().length() + 2;
                List<Long> out = ParensLm.greedy(graph, ParensLm.encode(p.prompt()), identity, identity, 0, max);
                if (out.size() < max && ParensLm.decode(out.stream().mapToLong(Long::longValue).toArray()).equals(p.answer())) correct++;
            }
        }
        assertThat(exported).isCloseTo((double) correct / probes.size(), within(1e-9));

        // the Evaluate RPC scores the same probes the same way, per depth
        var response = discovery.evaluate(EvaluateRequest.newBuilder().setModel(MODEL).setProbeSet("brackets").setPerGroup(10).build())
                .await().atMost(Duration.ofMinutes(2));
        assertThat(response.getGroupsList()).hasSize(10);
        assertThat(response.getGroupsList().stream().mapToInt(GroupAccuracy::getCorrect).sum()).isEqualTo(correct);
        assertThat(response.getGroups(0).getGroup()).isEqualTo("depth 1");
        assertThat(response.getGroups(9).getGroup()).isEqualTo("depth 10 (beyond training)");
    }

    @Test
    void evaluateNamesABadField() {
        var error = catchThrowableOfType(StatusRuntimeException.class, () -> discovery.evaluate(
                EvaluateRequest.newBuilder().setModel(MODEL).setProbeSet("poetry").build()).await().atMost(Duration.ofSeconds(10)));
        assertThat(error.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(error.getStatus().getDescription()).startsWith("probe_set:");
    }
}
