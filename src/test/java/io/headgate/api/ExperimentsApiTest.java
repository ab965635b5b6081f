package io.headgate.api;

import io.grpc.Metadata;
import io.grpc.Status;
import io.headgate.api.v1.Arm;
import io.headgate.api.v1.Experiment;
import io.headgate.api.v1.ExperimentSpec;
import io.headgate.api.v1.Experiments;
import io.headgate.api.v1.GenerateEvent;
import io.headgate.api.v1.GetExperimentRequest;
import io.headgate.api.v1.ListExperimentsRequest;
import io.headgate.api.v1.PromoteArmRequest;
import io.headgate.api.v1.PutExperimentRequest;
import io.headgate.api.v1.DeleteExperimentRequest;
import io.headgate.api.v1.Start;
import io.headgate.api.v1.Started;
import io.headgate.steer.ArmAssignment;
import io.headgate.steer.ExperimentRegistry;
import io.headgate.testing.GrpcStream;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.grpc.GrpcClientUtils;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;

import static io.headgate.api.ProfilesApiTest.await;
import static io.headgate.api.ProfilesApiTest.failure;
import static org.assertj.core.api.Assertions.assertThat;

/** A/B experiments over gRPC: the admin service, sticky assignment, the arm on Started and in metrics, promotion. */
@QuarkusTest
class ExperimentsApiTest extends GatewayTestBase {

    @GrpcClient("headgate")
    Experiments experimentsWithoutToken;

    @Inject
    ExperimentRegistry registry;

    @TestHTTPResource("/q/metrics")
    URI metrics;

    Experiments experiments() {
        Metadata headers = new Metadata();
        headers.put(AdminAuth.AUTHORIZATION, "Bearer test-admin-token");
        return GrpcClientUtils.attachHeaders(experimentsWithoutToken, headers);
    }

    static String uniqueName() {
        return "x-" + UUID.randomUUID().toString().substring(0, 8);
    }

    static ExperimentSpec spec(double control, double treatment) {
        return ExperimentSpec.newBuilder().setDescription("identity against pag-l1")
                .addArms(Arm.newBuilder().setName("control").setProfile("identity").setWeight(control))
                .addArms(Arm.newBuilder().setName("treatment").setProfile("pag-l1").setWeight(treatment))
                .build();
    }

    Experiment put(String name, ExperimentSpec spec, long expected) {
        return await(experiments().put(PutExperimentRequest.newBuilder().setModel(MODEL).setName(name).setSpec(spec)
                .setExpectedRevision(expected).build()));
    }

    Started started(String experiment, String key) throws InterruptedException {
        GrpcStream s = GrpcStream.start(generator, start("((=").setExperiment(experiment).setRoutingKey(key).setMaxTokens(1).build());
        GenerateEvent first = s.next();
        assertThat(first).as("Started, then %s", s.error()).isNotNull();
        s.rest();
        assertThat(s.error()).isNull();
        return first.getStarted();
    }

    @Test
    void adminCallsNeedTheToken() {
        Status none = failure(experimentsWithoutToken.list(ListExperimentsRequest.getDefaultInstance()));
        assertThat(none.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    }

    @Test
    void theSameKeyKeepsItsArmAcrossStreams() throws Exception {
        String name = uniqueName();
        put(name, spec(1, 1), 0);
        String arm = started(name, "user-42").getArm();
        assertThat(arm).isIn("control", "treatment");
        for (int i = 0; i < 50; i++) {
            Started s = started(name, "user-42");
            assertThat(s.getArm()).isEqualTo(arm);
            assertThat(s.getSteering().getProfile()).isEqualTo(arm.equals("control") ? "identity" : "pag-l1");
        }

        // new weights: each key gets the arm the new revision assigns it, which may differ from before
        put(name, spec(1, 3), 1);
        var latest = registry.latest(MODEL, name).orElseThrow();
        Set<String> seen = new HashSet<>();
        for (int k = 0; k < 20; k++) {
            String key = "key-" + k;
            String got = started(name, key).getArm();
            assertThat(got).isEqualTo(ArmAssignment.choose(latest, key).name());
            seen.add(got);
        }
        assertThat(seen).containsExactlyInAnyOrder("control", "treatment");
    }

    @Test
    void theArmIsOnStartedAndOnTheMetrics() throws Exception {
        String name = uniqueName();
        put(name, ExperimentSpec.newBuilder()
                .addArms(Arm.newBuilder().setName("arm-a-" + name).setProfile("pag-l1").setWeight(1))
                .addArms(Arm.newBuilder().setName("arm-b-" + name).setProfile("pag-l1").setWeight(1)).build(), 0);
        Started s = started(name, "");
        assertThat(s.getArm()).startsWith("arm-").endsWith(name);
        String text = MetricsAndHealthTest.get(metrics);
        assertThat(text).contains("headgate_generated_tokens_total{arm=\"" + s.getArm() + "\",model=\"parens-lm\",profile=\"pag-l1\"}");

        // outside experiments the arm is "none"
        GenerateEvent plain = GrpcStream.start(generator, start("((=").setMaxTokens(1).build()).next();
        assertThat(plain.getStarted().getArm()).isEqualTo("none");
    }

    @Test
    void promotionLeavesOneArmAndNewStreamsAllGetIt() throws Exception {
        String name = uniqueName();
        put(name, spec(3, 1), 0);
        Experiment promoted = await(experiments().promote(PromoteArmRequest.newBuilder().setModel(MODEL).setName(name)
                .setArm("treatment").setExpectedRevision(1).build()));
        assertThat(promoted.getRevision()).isEqualTo(2);
        assertThat(promoted.getSpec().getArmsList()).singleElement().satisfies(a -> {
            assertThat(a.getName()).isEqualTo("treatment");
            assertThat(a.getWeight()).isEqualTo(1.0);
        });
        for (int k = 0; k < 20; k++) assertThat(started(name, "k" + k).getArm()).isEqualTo("treatment");
        assertThat(started(name, "").getArm()).isEqualTo("treatment");

        Status noArm = failure(experiments().promote(PromoteArmRequest.newBuilder().setModel(MODEL).setName(name)
                .setArm("nope").setExpectedRevision(2).build()));
        assertThat(noArm.getCode()).isEqualTo(Status.Code.NOT_FOUND);
        Status stale = failure(experiments().promote(PromoteArmRequest.newBuilder().setModel(MODEL).setName(name)
                .setArm("treatment").setExpectedRevision(1).build()));
        assertThat(stale.getCode()).isEqualTo(Status.Code.ABORTED);
    }

    @Test
    void aRunningStreamKeepsItsArmWhenTheExperimentChanges() throws Exception {
        String name = uniqueName();
        put(name, ExperimentSpec.newBuilder()
                .addArms(Arm.newBuilder().setName("only-a").setProfile("pag-l1").setWeight(1))
                .addArms(Arm.newBuilder().setName("never").setProfile("identity").setWeight(1e-9)).build(), 0);
        GrpcStream s = GrpcStream.start(generator, start("{(<[()]([{=").setExperiment(name).setRoutingKey("r")
                .setCreditWindow(1).setMaxTokens(6).setIgnoreEos(true).build());
        Started started = s.next().getStarted();
        assertThat(started.getArm()).isEqualTo("only-a");
        s.nextToken();
        await(experiments().promote(PromoteArmRequest.newBuilder().setModel(MODEL).setName(name).setArm("never").setExpectedRevision(1).build()));
        s.ack(1000);
        var rest = GrpcStream.tokens(s.rest());
        assertThat(rest).isNotEmpty().allSatisfy(t -> assertThat(t.getSteering().getProfile()).isEqualTo("pag-l1"));
        assertThat(started(name, "r").getArm()).isEqualTo("never");
    }

    @Test
    void revisionsAndValidation() {
        String name = uniqueName();
        assertThat(put(name, spec(1, 1), 0).getRevision()).isEqualTo(1);
        assertThat(put(name, spec(1, 2), 1).getRevision()).isEqualTo(2);
        Status stale = failure(experiments().put(PutExperimentRequest.newBuilder().setModel(MODEL).setName(name)
                .setSpec(spec(5, 1)).setExpectedRevision(1).build()));
        assertThat(stale.getCode()).isEqualTo(Status.Code.ABORTED);
        assertThat(stale.getDescription()).contains("expected_revision").contains("2");

        assertThat(await(experiments().get(GetExperimentRequest.newBuilder().setModel(MODEL).setName(name).setRevision(1).build())).getSpec())
                .isEqualTo(spec(1, 1));
        assertThat(await(experiments().list(ListExperimentsRequest.newBuilder().setModel(MODEL).build())).getExperimentsList())
                .anySatisfy(e -> assertThat(e.getName()).isEqualTo(name));

        ExperimentSpec missing = spec(1, 1).toBuilder().setArms(1, Arm.newBuilder().setName("t").setProfile("no-such-profile").setWeight(1)).build();
        Status notFound = failure(experiments().put(PutExperimentRequest.newBuilder().setModel(MODEL).setName(uniqueName()).setSpec(missing).build()));
        assertThat(notFound.getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(notFound.getDescription()).startsWith("spec.arms[1].profile");

        ExperimentSpec oneArm = ExperimentSpec.newBuilder().addArms(spec(1, 1).getArms(0)).build();
        Status invalid = failure(experiments().put(PutExperimentRequest.newBuilder().setModel(MODEL).setName(uniqueName()).setSpec(oneArm).build()));
        assertThat(invalid.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(invalid.getDescription()).startsWith("spec.arms");

        assertThat(await(experiments().delete(DeleteExperimentRequest.newBuilder().setModel(MODEL).setName(name).setExpectedRevision(2).build()))
                .getRevision()).isEqualTo(3);
        assertThat(failure(experiments().get(GetExperimentRequest.newBuilder().setModel(MODEL).setName(name).build())).getCode())
                .isEqualTo(Status.Code.NOT_FOUND);
    }

    @Test
    void startRefusesABadExperiment() throws Exception {
        Status unknown = GrpcStream.start(generator, start("((=").setExperiment("no-such-experiment").build()).status();
        assertThat(unknown.getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(unknown.getDescription()).startsWith("start.experiment");

        String name = uniqueName();
        put(name, spec(1, 1), 0);
        Start both = start("((=").setExperiment(name).setSteering(profile("pag-l1")).build();
        Status exclusive = GrpcStream.start(generator, both).status();
        assertThat(exclusive.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(exclusive.getDescription()).startsWith("start.experiment");
    }

    @Test
    void compareReportsLiveTotalsAndCanaryAccuracyPerArmWithATest() throws Exception {
        String name = uniqueName();
        put(name, ExperimentSpec.newBuilder()
                .addArms(Arm.newBuilder().setName("control").setProfile("identity").setWeight(1))
                .addArms(Arm.newBuilder().setName("ablated").setProfile("ablate-l3").setWeight(1)).build(), 0);
        for (int i = 0; i < 24; i++) started(name, "user-" + i);

        var response = await(experiments().compare(io.headgate.api.v1.CompareExperimentRequest.newBuilder()
                .setModel(MODEL).setName(name).setPerGroup(8).build()));
        assertThat(response.getTest()).contains("McNemar's exact test").contains("paired").contains("two-sided");
        assertThat(response.getArmsList()).extracting(io.headgate.api.v1.ArmComparison::getArm).containsExactly("control", "ablated");
        var control = response.getArms(0);
        var ablated = response.getArms(1);
        assertThat(control.getTokens() + ablated.getTokens()).as("the streams' tokens, by arm").isGreaterThanOrEqualTo(24);
        assertThat(control.getZ()).isZero();
        assertThat(control.getPValue()).isEqualTo(1.0);
        assertThat(control.getCanaryExamples()).isEqualTo(88);
        // the control arm's canary is the identity evaluation of the same probes
        var identity = await(discovery.evaluate(io.headgate.api.v1.EvaluateRequest.newBuilder().setModel(MODEL).setPerGroup(8).build()));
        assertThat(control.getCanaryCorrect()).isEqualTo(identity.getGroupsList().stream().mapToInt(io.headgate.api.v1.GroupAccuracy::getCorrect).sum());
        assertThat(ablated.getCanaryAccuracy()).as("gating the last layer breaks bracket closing").isLessThan(control.getCanaryAccuracy());
        assertThat(control.getOnlyFirstCorrect() + control.getOnlyThisCorrect()).as("the first arm against itself").isZero();
        // paired: the difference in correct probes is exactly the difference of the discordant counts
        assertThat(ablated.getCanaryCorrect() - control.getCanaryCorrect())
                .isEqualTo(ablated.getOnlyThisCorrect() - ablated.getOnlyFirstCorrect());
        assertThat(ablated.getPValue()).isBetween(0.0, 0.05);
        assertThat(ablated.getZ()).isNegative();
    }

    @GrpcClient("headgate")
    io.headgate.api.v1.Discovery discovery;
}
