package io.headgate.api;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.headgate.api.v1.BuiltinContrast;
import io.headgate.api.v1.DirectionHead;
import io.headgate.api.v1.DirectionsEvent;
import io.headgate.api.v1.DirectionsRequest;
import io.headgate.api.v1.DirectionsResult;
import io.headgate.api.v1.Discovery;
import io.headgate.api.v1.HeadBias;
import io.headgate.api.v1.InlineContrast;
import io.headgate.api.v1.Profile;
import io.headgate.api.v1.PutProfileRequest;
import io.headgate.api.v1.ScanProgress;
import io.headgate.api.v1.Token;
import io.headgate.discovery.ScanExamples;
import io.headgate.effect.Probe;
import io.headgate.effect.ProbeSets;
import io.headgate.testing.GrpcStream;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import org.jboss.logging.Logger;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

/**
 * Directions over real gRPC on parens-lm: the contrast "the next closing bracket is ')'" against
 * every other closer, from the built-in bracket probes (training depths); the suggested head_bias
 * profile, saved through the admin Profiles API, makes the model close with ')' on held-out prompts
 * that need another bracket, and leaves the prompts that need ')' closing with it.
 */
@QuarkusTest
class DirectionsApiTest extends GatewayTestBase {

    private static final Logger LOG = Logger.getLogger(DirectionsApiTest.class);

    @GrpcClient("headgate")
    Discovery discovery;

    /** The contrast's probes, as the server draws them: ')' first closers against the rest. */
    static final List<Probe> PROBES = ScanExamples.builtin(MODEL, ProbeSets.BRACKETS, 0);
    static final long POSITIVE = PROBES.stream().filter(p -> p.answer().startsWith(")")).count();

    static DirectionsRequest.Builder closesWithParen() {
        return DirectionsRequest.newBuilder().setModel(MODEL)
                .setBuiltin(BuiltinContrast.newBuilder().setSet(ProbeSets.BRACKETS).setPositiveAnswer(")"));
    }

    List<DirectionsEvent> directions(DirectionsRequest r) {
        return discovery.directions(r).collect().asList().await().atMost(Duration.ofSeconds(120));
    }

    Status failure(DirectionsRequest r) {
        return catchThrowableOfType(StatusRuntimeException.class, () -> directions(r)).getStatus();
    }

    @Test
    void directionsStreamProgressThenTablesAndAProfileOfAlphaTimesSpreadOnTheMostSeparableHeads() {
        List<DirectionsEvent> events = directions(closesWithParen().setTop(5).setAlpha(3).setSeed(11).build());
        List<ScanProgress> progress = events.stream().filter(DirectionsEvent::hasProgress).map(DirectionsEvent::getProgress).toList();
        assertThat(progress).isNotEmpty().allSatisfy(p -> assertThat(p.getPhase()).isEqualTo("heads"));
        assertThat(progress.getLast().getDone()).isEqualTo(PROBES.size());
        assertThat(progress.getLast().getTotal()).isEqualTo(PROBES.size());

        DirectionsResult r = events.getLast().getResult();
        int heads = r.getLayers() * r.getHeads();
        assertThat(List.of(r.getLayers(), r.getHeads(), r.getHeadDim())).containsExactly(4, 8, 16);
        assertThat(r.getSupportedKindsList()).containsExactly("causal-lm");
        // each class split 3 : 1 into fitting and validation
        assertThat(r.getTrainPositive() + r.getValidationPositive()).isEqualTo(POSITIVE);
        assertThat(r.getTrainNegative() + r.getValidationNegative()).isEqualTo(PROBES.size() - POSITIVE);
        assertThat(r.getValidationPositive()).isEqualTo(Math.round(POSITIVE * 0.25));
        assertThat(r.getValidationNegative()).isEqualTo(Math.round((PROBES.size() - POSITIVE) * 0.25));
        assertThat(r.getSeparabilityList()).hasSize(heads).allSatisfy(s -> assertThat(s).isBetween(0.0, 1.0));
        assertThat(r.getSpreadList()).hasSize(heads);
        assertThat(r.getSeparationList()).hasSize(heads);

        // the chosen heads are the five most separable, best first
        List<Integer> chosen = r.getChosenList().stream().map(h -> h.getLayer() * r.getHeads() + h.getHead()).toList();
        assertThat(chosen).hasSize(5).doesNotHaveDuplicates();
        for (int i = 1; i < chosen.size(); i++) assertThat(r.getSeparability(chosen.get(i))).isLessThanOrEqualTo(r.getSeparability(chosen.get(i - 1)));
        double fifth = r.getSeparability(chosen.getLast());
        IntStream.range(0, heads).filter(h -> !chosen.contains(h)).forEach(h -> assertThat(r.getSeparability(h)).isLessThanOrEqualTo(fifth));
        assertThat(r.getSeparability(chosen.getFirst())).isGreaterThan(0.9); // which bracket closes next is plainly readable

        // one bias per chosen head, in that order, of length alpha · spread (a unit direction scaled)
        assertThat(r.getProfile().getGainsList()).isEmpty();
        assertThat(r.getProfile().getBiasesList()).hasSize(5);
        for (int i = 0; i < 5; i++) {
            HeadBias b = r.getProfile().getBiases(i);
            DirectionHead h = r.getChosen(i);
            assertThat(List.of(b.getLayer(), b.getHead())).containsExactly(h.getLayer(), h.getHead());
            assertThat(b.getVectorList()).hasSize(16);
            double length = Math.sqrt(b.getVectorList().stream().mapToDouble(x -> x * x).sum());
            assertThat(length).isCloseTo(3 * r.getSpread(chosen.get(i)), within(1e-4 * length));
        }
        assertThat(r.getProfile().getDescription()).contains("top 5 of 32 heads").contains("answer starts with ')'").contains("split seed 11");

        // the same request gives the same directions
        assertThat(directions(closesWithParen().setTop(5).setAlpha(3).setSeed(11).build()).getLast().getResult()).isEqualTo(r);
    }

    @Test
    void theSavedProfileMakesHeldOutPromptsCloseWithTheContrastedBracket() throws Exception {
        DirectionsResult strong = directions(closesWithParen().setSeed(1).build()).getLast().getResult(); // top 8, alpha 8
        DirectionsResult weak = directions(closesWithParen().setSeed(1).setAlpha(4).build()).getLast().getResult();
        assertThat(strong.getChosenList()).isEqualTo(weak.getChosenList()).hasSize(8);

        // saved through the admin profile API, which validates it against the model
        String name = "directions-" + UUID.randomUUID().toString().substring(0, 8);
        Profile saved = admin().put(PutProfileRequest.newBuilder().setModel(MODEL).setName(name).setSpec(strong.getProfile()).build())
                .await().atMost(Duration.ofSeconds(10));
        assertThat(saved.getRevision()).isEqualTo(1);
        assertThat(saved.getSpec()).isEqualTo(strong.getProfile());
        admin().put(PutProfileRequest.newBuilder().setModel(MODEL).setName(name + "-weak").setSpec(weak.getProfile()).build())
                .await().atMost(Duration.ofSeconds(10));

        // held out: drawn with a seed of their own, training depths, none of the contrast's prompts
        Set<String> used = PROBES.stream().map(Probe::prompt).collect(Collectors.toSet());
        List<Probe> heldOut = ProbeSets.parensLm(ProbeSets.BRACKETS, 40, 77).stream()
                .filter(p -> p.answer().length() <= ProbeSets.TRAINING_DEPTH && !used.contains(p.prompt())).toList();
        int positives = 0, negatives = 0, baselineParen = 0, steeredParen = 0, positivesKept = 0;
        int weakKept = 0, weakLower = 0, weakParen = 0;
        double baselineLogprob = 0, weakLogprob = 0;
        for (Probe p : heldOut) {
            Token baseline = first(p.prompt(), "identity"), steered = first(p.prompt(), name);
            if (p.answer().startsWith(")")) {
                positives++;
                assertThat(baseline.getText()).as(p.prompt()).isEqualTo(")");
                if (steered.getText().equals(")")) positivesKept++;
                continue;
            }
            negatives++;
            if (baseline.getText().equals(")")) baselineParen++;
            if (steered.getText().equals(")")) steeredParen++;
            // alpha 4 moves probability toward ')': the right closer's log-prob falls, or ')' takes its place
            Token weakToken = first(p.prompt(), name + "-weak");
            if (weakToken.getId() == baseline.getId()) {
                weakKept++;
                baselineLogprob += baseline.getLogprob();
                weakLogprob += weakToken.getLogprob();
                if (weakToken.getLogprob() < baseline.getLogprob()) weakLower++;
            } else if (weakToken.getText().equals(")")) {
                weakParen++;
            }
        }
        LOG.infof("directions on %d held-out prompts: ')' first on %d/%d other-closer prompts at baseline, %d/%d at alpha 8; "
                        + "')' kept on %d/%d; alpha 4: ')' on %d, the right closer's log-prob lower on %d of the other %d (mean %.5f -> %.5f)",
                heldOut.size(), baselineParen, negatives, steeredParen, negatives, positivesKept, positives, weakParen, weakLower, weakKept,
                baselineLogprob / weakKept, weakLogprob / weakKept);
        assertThat(positives).isGreaterThan(20);
        assertThat(negatives).isGreaterThan(60);
        assertThat(baselineParen).isZero(); // the model closes correctly within training depth
        assertThat(steeredParen).isGreaterThanOrEqualTo((int) Math.ceil(0.9 * negatives));
        assertThat(positivesKept).isEqualTo(positives);
        assertThat(weakParen + weakKept).isEqualTo(negatives);
        assertThat(weakLower).isEqualTo(weakKept);
    }

    /** The first generated token of {@code prompt}, greedy, under a profile. */
    Token first(String prompt, String profile) throws InterruptedException {
        GrpcStream s = GrpcStream.start(generator, start(prompt).setMaxTokens(1).setSteering(profile(profile)).build());
        Token t = s.nextToken();
        s.rest();
        return t;
    }

    @Test
    void inlineContrastsWork() {
        DirectionsRequest r = DirectionsRequest.newBuilder().setModel(MODEL).setTop(2).setValidationFraction(0.5f)
                .setInline(InlineContrast.newBuilder().addAllPositive(List.of("(=", "[(=", "{(=", "<(=")).addAllNegative(List.of("[=", "([=", "{[=", "<[=")))
                .build();
        DirectionsResult result = directions(r).getLast().getResult();
        assertThat(List.of(result.getTrainPositive(), result.getValidationPositive(), result.getTrainNegative(), result.getValidationNegative()))
                .containsExactly(2, 2, 2, 2);
        assertThat(result.getChosenCount()).isEqualTo(2);
        assertThat(result.getProfile().getDescription()).contains("inline prompts");
    }

    @Test
    void badRequestsNameTheField() {
        assertThat(failure(closesWithParen().setModel("digits-dit").build())).satisfies(s -> {
            assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(s.getDescription()).startsWith("model:").contains("diffusion").contains("causal-lm");
        });
        assertThat(failure(closesWithParen().setModel("gpt-9").build()).getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(failure(DirectionsRequest.newBuilder().setModel(MODEL).build()).getDescription()).startsWith("contrast:");
        assertThat(failure(closesWithParen().setBuiltin(BuiltinContrast.newBuilder().setSet("poetry").setPositiveAnswer(")")).build()))
                .satisfies(s -> {
                    assertThat(s.getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(s.getDescription()).startsWith("builtin.set:").contains("brackets");
                });
        assertThat(failure(closesWithParen().setBuiltin(BuiltinContrast.newBuilder().setSet("brackets")).build()).getDescription())
                .startsWith("builtin.positive_answer: required");
        assertThat(failure(closesWithParen().setBuiltin(BuiltinContrast.newBuilder().setSet("brackets").setPositiveAnswer("7")).build())
                .getDescription()).startsWith("builtin.positive_answer: 0 positive");
        assertThat(failure(DirectionsRequest.newBuilder().setModel(MODEL)
                .setInline(InlineContrast.newBuilder().addPositive("(=").addNegative("[=").addNegative("{=")).build()).getDescription())
                .startsWith("inline.positive: 1 positive");
        assertThat(failure(DirectionsRequest.newBuilder().setModel(MODEL)
                .setInline(InlineContrast.newBuilder().addPositive("(=").addPositive("((=").addNegative("[=").addNegative("héllo")).build())
                .getDescription()).startsWith("inline.negative[1]:");
        assertThat(failure(closesWithParen().setValidationFraction(1.5f).build()).getDescription()).startsWith("validation_fraction:");
        assertThat(failure(closesWithParen().setTop(33).build()).getDescription()).startsWith("top: 33 heads").contains("has 32");
        assertThat(failure(closesWithParen().setAlpha(Float.NaN).build()).getDescription()).startsWith("alpha:");
        // a bias the registry would refuse (components above headgate.profiles.max-magnitude) is refused before it is suggested
        assertThat(failure(closesWithParen().setAlpha(1000).build())).satisfies(s -> {
            assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(s.getDescription()).startsWith("alpha:").contains("smaller alpha");
        });
    }
}
