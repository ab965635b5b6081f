package io.headgate.api;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.headgate.api.v1.Discovery;
import io.headgate.api.v1.EvaluateRequest;
import io.headgate.api.v1.ExampleSet;
import io.headgate.api.v1.GetProfileRequest;
import io.headgate.api.v1.HeadClass;
import io.headgate.api.v1.HeadGain;
import io.headgate.api.v1.LabelledExample;
import io.headgate.api.v1.Profile;
import io.headgate.api.v1.ProfileSpec;
import io.headgate.api.v1.ScanEvent;
import io.headgate.api.v1.ScanProgress;
import io.headgate.api.v1.ScanRequest;
import io.headgate.api.v1.ScanResult;
import io.headgate.api.v1.Steering;
import io.headgate.api.v1.SuggestProfileRequest;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.grpc.GrpcClientUtils;
import io.headgate.discovery.HeadClassifier;
import io.headgate.discovery.ScanExamples;
import io.headgate.discovery.ScanJob;
import io.headgate.discovery.ScanListener;
import io.headgate.discovery.ScanReport;
import io.headgate.server.DiscoveryHost;
import io.headgate.model.ControlRow;
import io.headgate.testing.ParensLm;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Discovery over real gRPC: scans stream progress then a result; SuggestProfile writes a profile (admin). */
@QuarkusTest
class DiscoveryApiTest extends GatewayTestBase {

    @GrpcClient("headgate")
    Discovery discovery;

    @Inject
    DiscoveryHost discoveryHost;

    Discovery adminDiscovery() {
        Metadata headers = new Metadata();
        headers.put(AdminAuth.AUTHORIZATION, "Bearer test-admin-token");
        return GrpcClientUtils.attachHeaders(discovery, headers);
    }

    List<ScanEvent> scan(ScanRequest r) {
        return discovery.scan(r).collect().asList().await().atMost(Duration.ofSeconds(120));
    }

    Status scanFailure(ScanRequest r) {
        return catchThrowableOfType(StatusRuntimeException.class, () -> scan(r)).getStatus();
    }

    static ScanRequest.Builder brackets(int limit) {
        return ScanRequest.newBuilder().setModel(MODEL).setBuiltin("brackets").setLimit(limit);
    }

    static LabelledExample example(String prompt, String answer) {
        return LabelledExample.newBuilder().setPrompt(prompt).setAnswer(answer).build();
    }

    @Test
    void aScanStreamsProgressThenTheTables() {
        List<ScanEvent> events = scan(brackets(36).build());
        List<ScanProgress> progress = events.stream().filter(ScanEvent::hasProgress).map(ScanEvent::getProgress).toList();
        assertThat(progress).isNotEmpty();
        assertThat(progress.getFirst().getPhase()).isEqualTo("attribution");
        assertThat(progress.getLast()).isEqualTo(ScanProgress.newBuilder().setPhase("ablation").setDone(36).setTotal(36).build());
        List<String> phases = new ArrayList<>();
        progress.forEach(p -> {
            if (phases.isEmpty() || !phases.getLast().equals(p.getPhase())) phases.add(p.getPhase());
        });
        assertThat(phases).containsExactly("attribution", "ablation");

        assertThat(events.getLast().hasResult()).isTrue();
        ScanResult result = events.getLast().getResult();
        int heads = result.getLayers() * result.getHeads();
        assertThat(result.getLayers()).isEqualTo(4);
        assertThat(result.getHeads()).isEqualTo(8);
        assertThat(result.getExamples()).isEqualTo(36);
        assertThat(result.getScanId()).isNotEmpty();
        assertThat(result.getAttributionMeanList()).hasSize(heads);
        assertThat(result.getAttributionPositiveList()).hasSize(heads).allSatisfy(s -> assertThat(s).isBetween(0.0, 1.0));
        assertThat(result.getAblationDeltaLogprobList()).hasSize(heads);
        assertThat(result.getAblationDeltaAccuracyList()).hasSize(heads);
        assertThat(result.getClassesList()).hasSize(heads).contains(HeadClass.SOUND).doesNotContain(HeadClass.HEAD_CLASS_UNSPECIFIED);
        assertThat(result.getThresholds()).contains(">= 0.80");
        assertThat(result.getBaselineAccuracy()).isGreaterThan(0.9); // within training depth the model is right
        for (int i = 0; i < heads; i++) {
            if (result.getClasses(i) == HeadClass.SOUND) {
                assertThat(result.getAttributionPositive(i)).isGreaterThanOrEqualTo(0.8);
                assertThat(result.getAttributionMean(i)).isPositive();
            }
        }
    }

    @Test
    void inlineExamplesUnderASteeringAndAStricterThreshold() {
        ScanRequest r = ScanRequest.newBuilder().setModel(MODEL).setSoundThreshold(0.95f)
                .setInline(ExampleSet.newBuilder().addExamples(example("([{<", ">}])")).addExamples(example("57+681=", "738"))
                        .addExamples(example("{}(", ")")))
                .setSteering(Steering.newBuilder().setInline(ProfileSpec.newBuilder().addGains(HeadGain.newBuilder().setLayer(1).setHead(-1).setGain(1.2f))))
                .build();
        ScanResult result = scan(r).getLast().getResult();
        assertThat(result.getExamples()).isEqualTo(3);
        assertThat(result.getThresholds()).contains(">= 0.95");
        assertThat(result.getBaselineAccuracy()).isEqualTo(1.0);
    }

    @Test
    void badScansNameTheField() {
        assertThat(scanFailure(brackets(10).setModel("").build())).satisfies(s -> {
            assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(s.getDescription()).startsWith("model:");
        });
        assertThat(scanFailure(brackets(10).setModel("gpt-9").build())).satisfies(s -> {
            assertThat(s.getCode()).isEqualTo(Status.Code.NOT_FOUND);
            assertThat(s.getDescription()).startsWith("model:");
        });
        assertThat(scanFailure(ScanRequest.newBuilder().setModel(MODEL).build()).getDescription()).startsWith("examples:");
        assertThat(scanFailure(ScanRequest.newBuilder().setModel(MODEL).setBuiltin("poetry").build())).satisfies(s -> {
            assertThat(s.getCode()).isEqualTo(Status.Code.NOT_FOUND);
            assertThat(s.getDescription()).startsWith("builtin:").contains("brackets");
        });
        assertThat(scanFailure(brackets(10).setSoundThreshold(0.4f).build()).getDescription()).startsWith("sound_threshold:");
        assertThat(scanFailure(brackets(100_000).build()).getDescription()).startsWith("limit:");
        ScanRequest emptyAnswer = ScanRequest.newBuilder().setModel(MODEL)
                .setInline(ExampleSet.newBuilder().addExamples(example("((", "))")).addExamples(example("[[", ""))).build();
        assertThat(scanFailure(emptyAnswer).getDescription()).startsWith("inline.examples[1].answer:");
        ScanRequest unencodable = ScanRequest.newBuilder().setModel(MODEL)
                .setInline(ExampleSet.newBuilder().addExamples(example("hello", "))"))).build();
        assertThat(scanFailure(unencodable).getDescription()).startsWith("inline.examples[0]:");
        assertThat(scanFailure(brackets(10).setSteering(profile("no-such-profile")).build())).satisfies(s -> {
            assertThat(s.getCode()).isEqualTo(Status.Code.NOT_FOUND);
            assertThat(s.getDescription()).startsWith("steering.profile:");
        });
        ScanRequest badHead = brackets(10).setSteering(Steering.newBuilder().setInline(ProfileSpec.newBuilder()
                .addGains(HeadGain.newBuilder().setLayer(0).setHead(8).setGain(1)))).build();
        assertThat(scanFailure(badHead).getDescription()).startsWith("steering.inline.gains[0].head:");
    }

    @Test
    void suggestedProfileBoostsExactlyTheSoundHeadsAndIsStored() {
        ScanResult scan = scan(brackets(60).build()).getLast().getResult();
        String name = "rasteer-" + UUID.randomUUID().toString().substring(0, 8);
        SuggestProfileRequest request = SuggestProfileRequest.newBuilder().setModel(MODEL).setScanId(scan.getScanId())
                .setName(name).setBoost(1.4f).build();

        Status noToken = catchThrowableOfType(StatusRuntimeException.class,
                () -> discovery.suggestProfile(request).await().atMost(Duration.ofSeconds(10))).getStatus();
        assertThat(noToken.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);

        Profile suggested = adminDiscovery().suggestProfile(request).await().atMost(Duration.ofSeconds(10));
        assertThat(suggested.getRevision()).isEqualTo(1);
        assertThat(suggested.getSpec().getDescription()).contains(scan.getScanId()).contains("60 examples").contains("0.80");
        List<Integer> sound = new ArrayList<>();
        for (int i = 0; i < scan.getClassesCount(); i++) if (scan.getClasses(i) == HeadClass.SOUND) sound.add(i);
        assertThat(suggested.getSpec().getGainsList()).hasSize(sound.size())
                .allSatisfy(g -> assertThat(g.getGain()).isEqualTo(1.4f))
                .extracting(g -> g.getLayer() * scan.getHeads() + g.getHead()).containsExactlyElementsOf(sound);

        Profile stored = admin().get(GetProfileRequest.newBuilder().setModel(MODEL).setName(name).build()).await().atMost(Duration.ofSeconds(10));
        assertThat(stored.getSpec()).isEqualTo(suggested.getSpec());

        // the top two, as a new revision of the same profile
        Profile top = adminDiscovery().suggestProfile(request.toBuilder().setTop(2).setExpectedRevision(1).build()).await().atMost(Duration.ofSeconds(10));
        assertThat(top.getRevision()).isEqualTo(2);
        assertThat(top.getSpec().getGainsCount()).isEqualTo(Math.min(2, sound.size()));
    }

    @Test
    void badSuggestionsNameTheField() {
        Discovery admin = adminDiscovery();
        SuggestProfileRequest unknown = SuggestProfileRequest.newBuilder().setModel(MODEL).setScanId("scan-nope").setName("x").build();
        Status status = catchThrowableOfType(StatusRuntimeException.class, () -> admin.suggestProfile(unknown).await().atMost(Duration.ofSeconds(10))).getStatus();
        assertThat(status.getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(status.getDescription()).startsWith("scan_id:");

        String scanId = scan(brackets(12).build()).getLast().getResult().getScanId();
        SuggestProfileRequest.Builder ok = SuggestProfileRequest.newBuilder().setModel(MODEL).setScanId(scanId).setName("fine-name");
        for (var bad : List.of(ok.clone().setName("identity"), ok.clone().setName("has space"), ok.clone().setBoost(-1f),
                ok.clone().setBoost(100f), ok.clone().setDamp(2f))) {
            Status s = catchThrowableOfType(StatusRuntimeException.class, () -> admin.suggestProfile(bad.build()).await().atMost(Duration.ofSeconds(10))).getStatus();
            assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(s.getDescription()).matches("(name|boost|damp):.*");
        }
    }

    @Test
    void scansRunOnTheModelsDiscoveryThreadNotItsScheduler() throws Exception {
        Set<String> threads = ConcurrentHashMap.newKeySet();
        CompletableFuture<ScanReport> done = new CompletableFuture<>();
        var dims = model().model().manifest().dimensions();
        ScanJob job = new ScanJob(MODEL, "inline examples", List.of(ScanExamples.teacherForced("x", "((", "))", ParensLm::encode)),
                ControlRow.identity(dims), "identity@0", new HeadClassifier(0.8, 0.05, true));
        discoveryHost.submit(job, new ScanListener() {
            public void progress(String phase, int d, int total) {
                threads.add(Thread.currentThread().getName());
            }

            public void finished(ScanReport report) {
                threads.add(Thread.currentThread().getName());
                done.complete(report);
            }

            public void failed(Throwable error) {
                done.completeExceptionally(error);
            }

            public boolean cancelled() {
                return false;
            }
        });
        ScanReport report = done.get(60, TimeUnit.SECONDS);
        assertThat(threads).containsExactly("headgate-discovery-" + MODEL);
        assertThat(discoveryHost.scans().get(report.scanId())).contains(report);
    }
}
