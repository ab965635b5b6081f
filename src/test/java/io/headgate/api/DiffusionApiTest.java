package io.headgate.api;

import io.grpc.Metadata;
import io.grpc.Status;
import io.headgate.api.v1.Ack;
import io.headgate.api.v1.ArmComparison;
import io.headgate.api.v1.CompareExperimentRequest;
import io.headgate.api.v1.CompareExperimentResponse;
import io.headgate.api.v1.ExperimentSpec;
import io.headgate.api.v1.Experiments;
import io.headgate.api.v1.HeadGain;
import io.headgate.api.v1.PutExperimentRequest;
import io.headgate.api.v1.Diffusion;
import io.headgate.api.v1.DiffusionEvent;
import io.headgate.api.v1.DiffusionFinished;
import io.headgate.api.v1.DiffusionRequest;
import io.headgate.api.v1.DiffusionStart;
import io.headgate.api.v1.Generator;
import io.headgate.api.v1.Guidance;
import io.headgate.api.v1.HeadMix;
import io.headgate.api.v1.Preview;
import io.headgate.api.v1.ProfileSpec;
import io.headgate.api.v1.Profiles;
import io.headgate.api.v1.PutProfileRequest;
import io.headgate.api.v1.Start;
import io.headgate.api.v1.Steer;
import io.headgate.api.v1.Steering;
import io.headgate.server.ModelHost;
import io.headgate.testing.GrpcStream;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.grpc.GrpcClientUtils;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.mutiny.operators.multi.processors.UnicastProcessor;
import io.smallrye.mutiny.subscription.Cancellable;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import javax.imageio.ImageIO;
import java.io.ByteArrayInputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Diffusion.Generate over real gRPC on the demo model digits-dit. */
@QuarkusTest
class DiffusionApiTest {

    static final String MODEL = "digits-dit";

    @GrpcClient("headgate")
    Diffusion diffusion;
    @GrpcClient("headgate")
    Generator generator;
    @GrpcClient("headgate")
    Profiles profiles;
    @GrpcClient("headgate")
    Experiments experiments;
    @Inject
    ModelHost host;
    @Inject
    io.headgate.server.Canaries canaries;
    @TestHTTPResource("/q/metrics")
    java.net.URI metricsUri;

    final class Call {
        final UnicastProcessor<DiffusionRequest> requests = UnicastProcessor.create();
        final LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
        final Cancellable subscription = diffusion.generate(requests).subscribe().with(inbox::add, inbox::add, () -> inbox.add("done"));

        Call(DiffusionStart.Builder start) {
            requests.onNext(DiffusionRequest.newBuilder().setStart(start.setModel(start.getModel().isEmpty() ? MODEL : start.getModel())).build());
        }

        Call steer(Steer steer) {
            requests.onNext(DiffusionRequest.newBuilder().setSteer(steer).build());
            return this;
        }

        Call ack(long consumed) {
            requests.onNext(DiffusionRequest.newBuilder().setAck(Ack.newBuilder().setConsumed(consumed)).build());
            return this;
        }

        DiffusionEvent next() throws InterruptedException {
            Object o = inbox.poll(20, TimeUnit.SECONDS);
            if (o instanceof DiffusionEvent e) return e;
            throw new AssertionError("expected an event, got " + o);
        }

        List<DiffusionEvent> rest() throws InterruptedException {
            List<DiffusionEvent> out = new ArrayList<>();
            while (true) {
                Object o = inbox.poll(20, TimeUnit.SECONDS);
                if (o instanceof DiffusionEvent e) out.add(e);
                else if ("done".equals(o)) return out;
                else throw new AssertionError("call ended with " + o + " after " + out.size() + " events");
            }
        }

        Status status() throws InterruptedException {
            while (true) {
                Object o = inbox.poll(20, TimeUnit.SECONDS);
                if (o == null) throw new AssertionError("no end within 20 s");
                if (o instanceof Throwable t) return Status.fromThrowable(t);
                if ("done".equals(o)) return Status.OK;
            }
        }
    }

    @BeforeEach
    void loaded() throws InterruptedException {
        assertThat(host.awaitLoaded(120, TimeUnit.SECONDS)).isTrue();
        assertThat(host.entry(MODEL).state()).as(String.valueOf(host.entry(MODEL).error())).isEqualTo(ModelHost.State.READY);
    }

    static Steering pag(float mix, float scale) {
        ProfileSpec.Builder spec = ProfileSpec.newBuilder().addMixes(HeadMix.newBuilder().setLayer(0).setHead(-1).setMix(mix));
        if (scale >= 0) spec.setGuidance(Guidance.newBuilder().setPerturbationScale(scale));
        return Steering.newBuilder().setInline(spec).build();
    }

    @Test
    void anImageStreamsItsStepsAndPreviewsThenArrivesAsPngAndValues() throws Exception {
        var events = new Call(DiffusionStart.newBuilder().setLabel(3).setSeed(7).setSteps(10)
                .setPreview(Preview.newBuilder().setEvery(3).setScale(4))).rest();
        assertThat(events.getFirst().hasStarted()).isTrue();
        var steps = events.stream().filter(DiffusionEvent::hasStep).map(DiffusionEvent::getStep).toList();
        assertThat(steps).hasSize(10);
        for (int i = 0; i < 10; i++) {
            assertThat(steps.get(i).getIndex()).isEqualTo(i);
            assertThat(steps.get(i).getTotal()).isEqualTo(10);
            assertThat(steps.get(i).getT()).isEqualTo((float) (1 - i / 10.0));
            assertThat(steps.get(i).getRows()).as("no guidance: the conditional row only").isEqualTo(1);
            assertThat(steps.get(i).hasPreview()).as("step %d", i).isEqualTo((i + 1) % 3 == 0);
        }
        var preview = steps.get(2).getPreview();
        assertThat(preview.getSource()).isEqualTo("x0");
        var png = ImageIO.read(new ByteArrayInputStream(preview.getPng().toByteArray()));
        assertThat(png.getWidth()).isEqualTo(32);
        assertThat(png.getHeight()).isEqualTo(32);
        DiffusionFinished finished = events.getLast().getFinished();
        assertThat(finished.getReason()).isEqualTo(DiffusionFinished.Reason.COMPLETED);
        assertThat(finished.getSeed()).isEqualTo(7);
        assertThat(finished.getSteps()).isEqualTo(10);
        assertThat(finished.getImage().getValuesCount()).isEqualTo(64);
        assertThat(ImageIO.read(new ByteArrayInputStream(finished.getImage().getPng().toByteArray())).getWidth()).isEqualTo(32);

        // the same seed gives the same image
        var again = new Call(DiffusionStart.newBuilder().setLabel(3).setSeed(7).setSteps(10)).rest();
        assertThat(again.getLast().getFinished().getImage().getValuesList()).isEqualTo(finished.getImage().getValuesList());
    }

    @Test
    void aSteerMidStreamChangesTheRowsAndGuidanceFromTheNextStep() throws Exception {
        Call c = new Call(DiffusionStart.newBuilder().setUnconditional(true).setSeed(11).setSteps(8).setCreditWindow(1)
                .setGuidance(Guidance.newBuilder().setCfgScale(1f)));
        assertThat(c.next().hasStarted()).isTrue();
        for (int i = 0; i < 3; i++) {
            var step = c.next().getStep();
            assertThat(step.getRows()).isEqualTo(1);
            assertThat(step.getSteering().getProfile()).isEqualTo("identity");
            if (i == 2) c.steer(Steer.newBuilder().setSteering(pag(1f, 0.5f)).build());
            c.ack(i + 1);
        }
        assertThat(c.next().getSteeringApplied().getFromIndex()).isEqualTo(3);
        c.ack(1000);
        var rest = c.rest();
        var after = rest.stream().filter(DiffusionEvent::hasStep).map(DiffusionEvent::getStep).toList();
        assertThat(after).hasSize(5).allSatisfy(s -> {
            assertThat(s.getSteering().getProfile()).isEqualTo("inline");
            assertThat(s.getRows()).as("conditional and perturbed rows").isEqualTo(2);
            assertThat(s.getGuidance().getPerturbationScale()).isEqualTo(0.5f);
        });
    }

    @Test
    void aProfileCarriesGuidanceAndAStreamFollowingItMovesToItsNewRevision() throws Exception {
        String name = "pag-" + UUID.randomUUID().toString().substring(0, 8);
        Metadata headers = new Metadata();
        headers.put(AdminAuth.AUTHORIZATION, "Bearer test-admin-token");
        Profiles admin = GrpcClientUtils.attachHeaders(profiles, headers);
        admin.put(PutProfileRequest.newBuilder().setModel(MODEL).setName(name).setSpec(pag(1f, 0.5f).getInline()).build())
                .await().atMost(Duration.ofSeconds(10));
        Call c = new Call(DiffusionStart.newBuilder().setUnconditional(true).setSeed(5).setSteps(6).setCreditWindow(1)
                .setSteering(Steering.newBuilder().setProfile(name)));
        assertThat(c.next().getStarted().getFollowing()).isTrue();
        var step = c.next().getStep();
        assertThat(step.getGuidance().getPerturbationScale()).isEqualTo(0.5f);
        admin.put(PutProfileRequest.newBuilder().setModel(MODEL).setName(name).setSpec(pag(1f, 2f).getInline()).setExpectedRevision(1).build())
                .await().atMost(Duration.ofSeconds(10));
        c.ack(1);
        var applied = c.next().getSteeringApplied();
        assertThat(applied.getReason()).isEqualTo("follow");
        assertThat(applied.getSteering().getRevision()).isEqualTo(2);
        c.ack(1000);
        var next = c.rest().stream().filter(DiffusionEvent::hasStep).findFirst().orElseThrow().getStep();
        assertThat(next.getGuidance().getPerturbationScale()).as("the new revision's scale").isEqualTo(2f);
    }

    @Test
    void cancelFreesTheRowsWithinAStep() throws Exception {
        Call c = new Call(DiffusionStart.newBuilder().setLabel(1).setSteps(200).setCreditWindow(1));
        c.next();
        c.next();
        var scheduler = host.entry(MODEL).model().scheduler();
        assertThat(scheduler.activeStreams()).isEqualTo(1);
        c.subscription.cancel();
        await().atMost(Duration.ofSeconds(5)).until(() -> scheduler.activeStreams() == 0);
    }

    record Bad(String what, DiffusionStart.Builder start, Status.Code code, String field) {
        @Override
        public String toString() {
            return what;
        }
    }

    static Stream<Bad> badStarts() {
        return Stream.of(
                new Bad("no condition", DiffusionStart.newBuilder(), Status.Code.INVALID_ARGUMENT, "start.condition"),
                new Bad("label out of range", DiffusionStart.newBuilder().setLabel(10), Status.Code.INVALID_ARGUMENT, "start.label"),
                new Bad("unsigned label", DiffusionStart.newBuilder().setLabel(-1), Status.Code.INVALID_ARGUMENT, "start.label"),
                new Bad("too many steps", DiffusionStart.newBuilder().setLabel(1).setSteps(251), Status.Code.INVALID_ARGUMENT, "start.steps"),
                new Bad("NaN scale", DiffusionStart.newBuilder().setLabel(1).setGuidance(Guidance.newBuilder().setCfgScale(Float.NaN)),
                        Status.Code.INVALID_ARGUMENT, "start.guidance.cfg_scale"),
                new Bad("negative scale", DiffusionStart.newBuilder().setLabel(1).setGuidance(Guidance.newBuilder().setPerturbationScale(-1)),
                        Status.Code.INVALID_ARGUMENT, "start.guidance.perturbation_scale"),
                new Bad("absurd preview", DiffusionStart.newBuilder().setLabel(1).setPreview(Preview.newBuilder().setEvery(1).setScale(10_000)),
                        Status.Code.INVALID_ARGUMENT, "start.preview.scale"),
                new Bad("unknown profile", DiffusionStart.newBuilder().setLabel(1).setSteering(Steering.newBuilder().setProfile("nope")),
                        Status.Code.NOT_FOUND, "start.steering.profile"),
                new Bad("mix out of range", DiffusionStart.newBuilder().setLabel(1).setSteering(pag(2f, -1)), Status.Code.INVALID_ARGUMENT,
                        "start.steering.inline.mixes[0].mix"),
                new Bad("a language model", DiffusionStart.newBuilder().setModel("parens-lm").setLabel(1), Status.Code.INVALID_ARGUMENT, "start.model"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badStarts")
    void aBadStartNamesItsField(Bad bad) throws Exception {
        Status status = new Call(bad.start()).status();
        assertThat(status.getCode()).isEqualTo(bad.code());
        assertThat(status.getDescription()).startsWith(bad.field() + ": ");
    }

    @Test
    void compareScoresDiffusionArmsOnPairedSamplesAndCanariesReportSampleQuality() throws Exception {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        Metadata headers = new Metadata();
        headers.put(AdminAuth.AUTHORIZATION, "Bearer test-admin-token");
        Profiles admin = GrpcClientUtils.attachHeaders(profiles, headers);
        Experiments experimentsAdmin = GrpcClientUtils.attachHeaders(experiments, headers);
        String broken = "ablate-" + suffix; // every head of every layer gated off
        admin.put(PutProfileRequest.newBuilder().setModel(MODEL).setName(broken).setSpec(ProfileSpec.newBuilder()
                .addGains(HeadGain.newBuilder().setLayer(-1).setHead(-1).setGain(0)))
                .build()).await().atMost(Duration.ofSeconds(10));
        String name = "ab-" + suffix;
        experimentsAdmin.put(PutExperimentRequest.newBuilder().setModel(MODEL).setName(name).setSpec(ExperimentSpec.newBuilder()
                .addArms(io.headgate.api.v1.Arm.newBuilder().setName("control").setProfile("identity").setWeight(1))
                .addArms(io.headgate.api.v1.Arm.newBuilder().setName("ablated").setProfile(broken).setWeight(1))).build())
                .await().atMost(Duration.ofSeconds(10));

        // a stream started under the experiment runs under its arm's profile
        var started = new Call(DiffusionStart.newBuilder().setLabel(4).setSteps(3).setExperiment(name).setRoutingKey("user-1")).rest();
        assertThat(started.getFirst().getStarted().getArm()).isIn("control", "ablated");

        CompareExperimentResponse compare = experimentsAdmin.compare(CompareExperimentRequest.newBuilder().setModel(MODEL).setName(name)
                .setPerGroup(3).build()).await().atMost(Duration.ofMinutes(2));
        assertThat(compare.getTest()).contains("McNemar");
        ArmComparison control = compare.getArms(0), ablated = compare.getArms(1);
        assertThat(control.getCanaryExamples()).as("3 samples of each of 10 classes").isEqualTo(30);
        assertThat(control.getCanaryAccuracy()).isGreaterThanOrEqualTo(0.9);
        assertThat(control.getCanaryConfidence()).isGreaterThan(0.9);
        assertThat(ablated.getCanaryAccuracy()).as("the ablated arm").isLessThan(control.getCanaryAccuracy());
        assertThat(ablated.getCanaryFrechetDistance()).isGreaterThan(control.getCanaryFrechetDistance());
        assertThat(ablated.getOnlyFirstCorrect()).isGreaterThan(ablated.getOnlyThisCorrect());
        assertThat(ablated.getPValue()).isLessThan(0.05);

        canaries.runNow();
        String metrics = MetricsAndHealthTest.get(metricsUri);
        assertThat(metrics).contains("headgate_canary_sample_quality{arm=\"none\",measure=\"accuracy\",model=\"digits-dit\",profile=\"identity\"}")
                .contains("headgate_canary_sample_quality{arm=\"ablated\",measure=\"frechet_distance\",model=\"digits-dit\",profile=\"" + broken + "\"}");
    }

    @Test
    void guidanceIsRefusedForALanguageModel() throws Exception {
        Status status = GrpcStream.start(generator, Start.newBuilder().setModel("parens-lm").setText("((=").setSteering(pag(0.5f, 1f)).build()).status();
        assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(status.getDescription()).startsWith("start.steering.inline.guidance: ");
    }

    @Test
    void aReprefillSteerIsRejectedAndTheImageGoesOn() throws Exception {
        Call c = new Call(DiffusionStart.newBuilder().setLabel(2).setSteps(4).setCreditWindow(1));
        c.next();
        c.next();
        c.steer(Steer.newBuilder().setSteering(pag(1f, 1f)).setReprefill(true).build());
        assertThat(c.next().getSteeringRejected().getField()).isEqualTo("steer.reprefill");
        c.ack(1000);
        assertThat(c.rest().getLast().getFinished().getReason()).isEqualTo(DiffusionFinished.Reason.COMPLETED);
    }
}
