package io.headgate.api;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.headgate.api.v1.Discovery;
import io.headgate.api.v1.EvaluateRequest;
import io.headgate.api.v1.EvaluateResponse;
import io.headgate.api.v1.GroupAccuracy;
import io.headgate.api.v1.MetricGuard;
import io.headgate.api.v1.ProbeObjective;
import io.headgate.api.v1.ProbeTask;
import io.headgate.api.v1.Profile;
import io.headgate.api.v1.SaveSearchProfileRequest;
import io.headgate.api.v1.SearchEvent;
import io.headgate.api.v1.SearchRequest;
import io.headgate.api.v1.SearchResult;
import io.headgate.api.v1.SearchUnit;
import io.headgate.api.v1.Steering;
import io.headgate.api.v1.WindowObjective;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.grpc.GrpcClientUtils;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

/**
 * Search over real gRPC: progress then a result whose held-out score Evaluate reproduces for the saved
 * profile; saving needs the admin token; bad requests name their field.
 */
@QuarkusTest
class SearchApiTest extends GatewayTestBase {

    static final String FORECASTER = "series-tsfm", DIFFUSION = "digits-dit";

    @GrpcClient("headgate")
    Discovery discovery;

    Discovery adminDiscovery() {
        Metadata headers = new Metadata();
        headers.put(AdminAuth.AUTHORIZATION, "Bearer test-admin-token");
        return GrpcClientUtils.attachHeaders(discovery, headers);
    }

    List<SearchEvent> search(SearchRequest r) {
        return discovery.search(r).collect().asList().await().atMost(Duration.ofMinutes(5));
    }

    Status failure(SearchRequest r) {
        return catchThrowableOfType(StatusRuntimeException.class, () -> search(r)).getStatus();
    }

    static ProbeTask brackets(int min, int max) {
        return ProbeTask.newBuilder().setProbeSet("brackets").setMinDepth(min).setMaxDepth(max).build();
    }

    /** Boosts of layer 1's heads against deep brackets, addition guarded. */
    static SearchRequest.Builder deepBrackets() {
        return SearchRequest.newBuilder().setModel(MODEL).addLayers(1).setGain(1.6f).setRounds(2).setRandomSets(1).setSeed(3)
                .setProbes(ProbeObjective.newBuilder().setScore(brackets(9, 10)).setDevPerGroup(20).setHeldOutPerGroup(20)
                        .addGuards(ProbeTask.newBuilder().setProbeSet("addition").setTolerance(0.1)));
    }

    @Test
    void aSearchStreamsProgressAndItsSavedProfileReproducesTheHeldOutScoreThroughEvaluate() {
        List<SearchEvent> events = search(deepBrackets().build());
        assertThat(events.getLast().hasResult()).isTrue();
        assertThat(events.subList(0, events.size() - 1)).allSatisfy(e -> assertThat(e.hasProgress()).isTrue());
        assertThat(events).extracting(e -> e.getProgress().getPhase()).contains("baseline", "round", "held-out");
        SearchResult r = events.getLast().getResult();

        assertThat(r.getObjective()).isEqualTo("brackets depth 9-10 accuracy");
        assertThat(r.getHeldOutExamples()).isEqualTo(40);
        assertThat(r.getDevExamples()).isBetween(30, 40); // development probes that are also held out are dropped
        assertThat(r.getHeldOutBaseline().getGuardsList()).singleElement().satisfies(g -> assertThat(g.getName()).isEqualTo("addition accuracy"));
        assertThat(r.getPicksList()).isNotEmpty().allSatisfy(p -> assertThat(p.getUnit().getLayer()).isEqualTo(1));
        assertThat(r.getDevChosen().getScore().getValue()).isGreaterThan(r.getDevBaseline().getScore().getValue());
        assertThat(r.getRandomSetsList()).singleElement().satisfies(s -> assertThat(s.getUnitsCount()).isEqualTo(r.getPicksCount()));
        assertThat(r.getSuggested().getGainsList()).hasSize(r.getPicksCount())
                .allSatisfy(g -> assertThat(g.getGain()).isEqualTo(r.getStrength()));
        assertThat(r.getSuggested().getDescription()).contains("greedy search", "held-out");

        // saving needs the admin token
        var save = SaveSearchProfileRequest.newBuilder().setModel(MODEL).setSearchId(r.getSearchId()).setName("searched-" + UUID.randomUUID().toString().substring(0, 6)).build();
        Status refused = catchThrowableOfType(StatusRuntimeException.class,
                () -> discovery.saveSearchProfile(save).await().atMost(Duration.ofSeconds(10))).getStatus();
        assertThat(refused.getCode()).isIn(Status.Code.UNAUTHENTICATED, Status.Code.PERMISSION_DENIED);
        Profile saved = adminDiscovery().saveSearchProfile(save).await().atMost(Duration.ofSeconds(10));
        assertThat(saved.getSpec()).isEqualTo(r.getSuggested());

        // Evaluate with the held-out size scores the same probes: depth 9 and 10 together give the reported accuracy
        EvaluateResponse evaluated = discovery.evaluate(EvaluateRequest.newBuilder().setModel(MODEL).setProbeSet("brackets").setPerGroup(20)
                .setSteering(Steering.newBuilder().setProfile(saved.getName() + "@" + saved.getRevision())).build()).await().atMost(Duration.ofMinutes(2));
        List<GroupAccuracy> deep = evaluated.getGroupsList().stream().filter(g -> g.getGroup().startsWith("depth 9") || g.getGroup().startsWith("depth 10")).toList();
        assertThat(deep).hasSize(2);
        double accuracy = deep.stream().mapToInt(GroupAccuracy::getCorrect).sum() / 40.0;
        assertThat(accuracy).isCloseTo(r.getHeldOutChosen().getScore().getValue(), within(1.0 / 40 + 1e-9));
    }

    @Test
    void aPruningOrderOnTheForecasterIsScoredOnSeriesItNeverChoseOnAndEvaluateReproducesIt() {
        SearchRequest request = SearchRequest.newBuilder().setModel(FORECASTER).addLayers(3).setGain(0).setMaxLoss(10).setRounds(2)
                .setWindows(WindowObjective.newBuilder().setMetric("relative_mase").setDevPerFrequency(2).setHeldOutPerFrequency(2)
                        .addGuards(MetricGuard.newBuilder().setMetric("relative_wql").setTolerance(10))).build();
        SearchResult r = search(request).getLast().getResult();
        // a tolerated loss orders heads: both rounds take one
        assertThat(r.getPicksList()).extracting(p -> p.getUnit().getLayer()).containsExactly(3, 3);
        assertThat(r.getStop()).isEqualTo("completed");
        assertThat(r.getSuggested().getGainsList()).hasSize(2).allSatisfy(g -> assertThat(g.getGain()).isZero());

        Profile saved = adminDiscovery().saveSearchProfile(SaveSearchProfileRequest.newBuilder().setModel(FORECASTER).setSearchId(r.getSearchId())
                .setName("pruned-" + UUID.randomUUID().toString().substring(0, 6)).build()).await().atMost(Duration.ofSeconds(10));
        EvaluateResponse evaluated = discovery.evaluate(EvaluateRequest.newBuilder().setModel(FORECASTER).setPerGroup(2)
                .setSteering(Steering.newBuilder().setProfile(saved.getName())).build()).await().atMost(Duration.ofMinutes(2));
        assertThat(evaluated.getForecast().getWindows()).isEqualTo(r.getHeldOutExamples());
        assertThat(evaluated.getForecast().getRelativeMase()).isCloseTo(r.getHeldOutChosen().getScore().getValue(), within(1e-4));
        assertThat(evaluated.getForecast().getRelativeWql()).isCloseTo(r.getHeldOutChosen().getGuards(0).getValue(), within(1e-4));
    }

    @Test
    void aPerturbedHeadSearchOnTheDiffusionModelIsReproducedByEvaluate() {
        SearchRequest request = SearchRequest.newBuilder().setModel(DIFFUSION).addLayers(2).setMix(1).setMaxLoss(1).setRounds(1)
                .setGuidance(io.headgate.api.v1.Guidance.newBuilder().setPerturbationScale(2))
                .setSamples(io.headgate.api.v1.SampleObjective.newBuilder().setMetric("confidence").setDevPerClass(1).setHeldOutPerClass(2)).build();
        SearchResult r = search(request).getLast().getResult();
        assertThat(r.getObjective()).isEqualTo("conditional sample confidence");
        assertThat(r.getDevExamples()).isEqualTo(10);
        assertThat(r.getHeldOutExamples()).isEqualTo(20);
        assertThat(r.getPicksList()).singleElement().satisfies(p -> assertThat(p.getUnit().getLayer()).isEqualTo(2));
        assertThat(r.getSuggested().getMixesList()).singleElement().satisfies(m -> assertThat(m.getMix()).isEqualTo(1f));
        assertThat(r.getSuggested().getGuidance().getPerturbationScale()).isEqualTo(2f);

        EvaluateResponse evaluated = discovery.evaluate(EvaluateRequest.newBuilder().setModel(DIFFUSION).setPerGroup(2)
                .setSteering(Steering.newBuilder().setInline(r.getSuggested())).build()).await().atMost(Duration.ofMinutes(2));
        assertThat(evaluated.getSamples().getImages()).isEqualTo(20);
        assertThat(evaluated.getSamples().getConfidence()).isCloseTo(r.getHeldOutChosen().getScore().getValue(), within(1e-6));
    }

    @Test
    void badSearchesNameTheField() {
        assertThat(failure(deepBrackets().clearIntervention().build()).getDescription()).startsWith("intervention");
        assertThat(failure(deepBrackets().setMaxEvaluations(5).build()).getDescription()).startsWith("max_evaluations");
        assertThat(failure(deepBrackets().setGain(1e6f).build()).getDescription()).startsWith("gain");
        assertThat(failure(deepBrackets().setRounds(-1).build()).getDescription()).startsWith("rounds: 4294967295 exceeds 8");
        assertThat(failure(deepBrackets().addLayers(9).build()).getDescription()).startsWith("layers[1]");
        assertThat(failure(deepBrackets().setProbes(ProbeObjective.newBuilder().setScore(brackets(8, 3))).build()).getDescription())
                .startsWith("probes.score.max_depth");
        assertThat(failure(deepBrackets().setProbes(ProbeObjective.newBuilder().setScore(ProbeTask.newBuilder().setProbeSet("poems"))).build())
                .getDescription()).startsWith("probes.score.probe_set");
        var unreadable = io.headgate.api.v1.ExampleSet.newBuilder();
        for (String prompt : List.of("(x=", "[[=", "((=", "<<=")) unreadable.addExamples(io.headgate.api.v1.LabelledExample.newBuilder().setPrompt(prompt).setAnswer(")"));
        assertThat(failure(deepBrackets().setProbes(ProbeObjective.newBuilder().setScore(ProbeTask.newBuilder().setInline(unreadable))).build())
                .getDescription()).isEqualTo("probes.score.inline.examples[0]: the tokenizer cannot encode 'x'");
        Status wrongKind = failure(SearchRequest.newBuilder().setModel(FORECASTER).setGain(0).setProbes(ProbeObjective.newBuilder().setScore(brackets(1, 2))).build());
        assertThat(wrongKind.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(wrongKind.getDescription()).startsWith("objective").contains("windows");
        assertThat(failure(deepBrackets().setGuidance(io.headgate.api.v1.Guidance.newBuilder().setCfgScale(2)).build()).getDescription())
                .startsWith("guidance");
        assertThat(failure(SearchRequest.newBuilder().setModel(DIFFUSION).setMix(1).setSamples(io.headgate.api.v1.SampleObjective.newBuilder()
                .setMetric("accuracy").setUnconditional(true)).build()).getDescription()).startsWith("samples.metric");
        Status missing = catchThrowableOfType(StatusRuntimeException.class, () -> adminDiscovery().saveSearchProfile(SaveSearchProfileRequest.newBuilder()
                .setModel(MODEL).setSearchId("search-nope").setName("x").build()).await().atMost(Duration.ofSeconds(10))).getStatus();
        assertThat(missing.getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(missing.getDescription()).startsWith("search_id");
    }

    @Test
    void cancellingASearchStopsItsStreamsWithinTheRound() {
        List<SearchEvent> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        var subscription = discovery.search(deepBrackets().setRounds(5).setProbes(ProbeObjective.newBuilder().setScore(brackets(7, 10))
                .setDevPerGroup(150).setHeldOutPerGroup(150)).build()).subscribe().with(seen::add, t -> { });
        org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(2)).until(() -> seen.stream().anyMatch(e -> e.getProgress().getPhase().equals("round")));
        subscription.cancel();
        var scheduler = model().model().scheduler();
        // the round's in-flight streams are cancelled, and no later batch starts
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                .until(() -> scheduler.activeStreams() == 0 && scheduler.waitingStreams() == 0);
        int events = seen.size();
        org.awaitility.Awaitility.await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5))
                .until(() -> scheduler.activeStreams() == 0 && seen.size() == events);
        assertThat(seen).noneMatch(SearchEvent::hasResult);
    }
}
