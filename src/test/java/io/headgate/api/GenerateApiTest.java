package io.headgate.api;

import io.headgate.api.v1.GenerateEvent;
import io.headgate.api.v1.HeadGain;
import io.headgate.api.v1.HeadMix;
import io.headgate.api.v1.ProfileSpec;
import io.headgate.api.v1.PutProfileRequest;
import io.headgate.api.v1.Sampling;
import io.headgate.api.v1.Steer;
import io.headgate.api.v1.Steering;
import io.headgate.api.v1.Token;
import io.headgate.engine.Scheduler;
import io.headgate.engine.lm.CausalLmWorkload;
import io.headgate.engine.lm.LmRequest;
import io.headgate.engine.lm.SamplingParams;
import io.headgate.model.lm.CausalLmGraph;
import io.headgate.model.ControlRow;
import io.headgate.steer.ProfileCompiler;
import io.headgate.testing.LmSink;
import io.headgate.testing.GrpcStream;
import io.headgate.testing.ParensLm;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Streaming generation over real gRPC: parity with the engine, live steering, batching, cancellation. */
@QuarkusTest
class GenerateApiTest extends GatewayTestBase {

    @Inject
    MeterRegistry meters;

    static CausalLmGraph reference;

    @BeforeAll
    static void loadReference() throws Exception {
        reference = ParensLm.graph();
    }

    @AfterAll
    static void closeReference() throws Exception {
        reference.close();
    }

    @Test
    void streamedTokensEqualTheEngineRunDirectlyWithTheSameSeed() throws Exception {
        String prompt = "{(<[()]([{=";
        Sampling sampling = Sampling.newBuilder().setTemperature(0.9f).setTopK(8).setTopP(0.95f).setSeed(42).build();
        List<GenerateEvent> events = GrpcStream.start(generator, start(prompt).setSampling(sampling).setMaxTokens(12).build()).rest();
        assertThat(events.getFirst().hasStarted()).isTrue();
        assertThat(events.getLast().hasFinished()).isTrue();
        List<Token> streamed = GrpcStream.tokens(events);

        var m = model().model();
        CausalLmWorkload workload = ParensLm.workload(ParensLm.graph(), 2);
        try (var direct = ParensLm.scheduler(workload, 2)) {
            LmSink sink = new LmSink();
            direct.submit(workload.open(new LmRequest(ParensLm.encode(prompt), new SamplingParams(0.9f, 8, 0.95f, 42), 12, List.of())),
                    new io.headgate.steer.Steering(io.headgate.steer.SteeringTag.IDENTITY, ControlRow.identity(m.manifest().dimensions()), null),
                    0, sink);
            assertThat(streamed.stream().map(Token::getId).toList()).isEqualTo(sink.tokens());
        }
        StringBuilder text = new StringBuilder();
        streamed.forEach(t -> text.append(t.getText()));
        text.append(events.getLast().getFinished().getText());
        assertThat(text.toString()).isEqualTo(ParensLm.decode(streamed.stream().mapToLong(Token::getId).toArray()));
        for (int i = 0; i < streamed.size(); i++) assertThat(streamed.get(i).getIndex()).isEqualTo(i);
    }

    @Test
    void aSteerAfterTokenKAppliesFromTokenKPlusOne() throws Exception {
        String name = "switch-" + UUID.randomUUID().toString().substring(0, 8);
        ProfileSpec spec = ProfileSpec.newBuilder().setDescription("test")
                .addGains(HeadGain.newBuilder().setLayer(3).setHead(-1).setGain(0f))
                .addGains(HeadGain.newBuilder().setLayer(2).setHead(1).setGain(1.7f))
                .addMixes(HeadMix.newBuilder().setLayer(1).setHead(-1).setMix(0.5f)).build();
        long revision = admin().put(PutProfileRequest.newBuilder().setModel(MODEL).setName(name).setSpec(spec).build())
                .await().atMost(Duration.ofSeconds(10)).getRevision();
        var dims = model().model().manifest().dimensions();
        ControlRow steered = ProfileCompiler.compile(ProtoMapping.spec(spec), dims);
        String prompt = "<{([<{([=";
        for (int k : new int[]{0, 3, 6}) {
            GrpcStream s = GrpcStream.start(generator, start(prompt).setMaxTokens(14).setCreditWindow(1).build());
            List<Long> before = new ArrayList<>();
            for (int i = 0; i <= k; i++) {
                Token t = s.nextToken();
                assertThat(t.getIndex()).isEqualTo(i);
                assertThat(t.getSteering().getProfile()).isEqualTo("identity");
                before.add(t.getId());
                if (i == k) s.steer(Steer.newBuilder().setSteering(profile(name)).build());
                s.ack(i + 1);
            }
            s.ack(1000);
            List<GenerateEvent> rest = s.rest();
            assertThat(s.error()).isNull();
            GenerateEvent applied = rest.stream().filter(GenerateEvent::hasSteeringApplied).findFirst().orElseThrow();
            assertThat(applied.getSteeringApplied().getFromIndex()).isEqualTo(k + 1);
            assertThat(applied.getSteeringApplied().getSteering().getProfile()).isEqualTo(name);
            List<Token> after = GrpcStream.tokens(rest);
            for (Token t : after) assertThat(t.getSteering().getRevision()).isEqualTo(revision);
            for (Token t : after) assertThat(t.getSteering().getProfile()).isEqualTo(name);

            List<Long> expected = ParensLm.greedy(reference, ParensLm.encode(prompt), ControlRow.identity(dims), steered, k + 1, 14);
            assertThat(before).isEqualTo(expected.subList(0, k + 1));
            assertThat(after.stream().map(Token::getId).toList()).as("tokens after the switch at %d", k)
                    .isEqualTo(expected.subList(k + 1, expected.size()));
        }
    }

    @Test
    void sixteenConcurrentStreamsWithSixteenProfilesEachEqualTheStreamAlone() throws Exception {
        Random random = new Random(16);
        String[] prompts = {"([{<=", "((((((=", "{<[=", "57+681=", "<<{{[[=", "([]{<>}=", "9+99=", "[[[[[=",
                "{}{}{{=", "<[(=", "123+4=", "((<>[=", "{{{{{{{=", "[(<{=", "8+8=", "<<<<<<<="};
        List<Steering> steerings = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            ProfileSpec.Builder spec = ProfileSpec.newBuilder();
            for (int g = 0; g < 6; g++) {
                spec.addGains(HeadGain.newBuilder().setLayer(random.nextInt(4)).setHead(random.nextInt(8)).setGain(random.nextFloat() * 2));
            }
            spec.addMixes(HeadMix.newBuilder().setLayer(random.nextInt(4)).setHead(-1).setMix(random.nextFloat() * 0.5f));
            steerings.add(Steering.newBuilder().setInline(spec).build());
        }
        // a credit window of one holds each stream after its first token until all 16 hold a slot at once;
        // ignoring the end of text keeps all of them running for 12 tokens
        Scheduler scheduler = model().model().scheduler();
        List<GrpcStream> together = new ArrayList<>();
        List<List<Long>> concurrent = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            together.add(GrpcStream.start(generator, start(prompts[i]).setSteering(steerings.get(i)).setMaxTokens(12).setIgnoreEos(true)
                    .setCreditWindow(1).build()));
            concurrent.add(new ArrayList<>());
        }
        for (int i = 0; i < 16; i++) concurrent.get(i).add(together.get(i).nextToken().getId());
        assertThat(scheduler.activeStreams()).as("streams holding a slot at once").isEqualTo(16);
        long wideBefore = decodeStepsWithMoreThanOneRow();
        for (GrpcStream s : together) s.ack(1000);
        for (int i = 0; i < 16; i++) {
            List<Long> ids = concurrent.get(i);
            GrpcStream.tokens(together.get(i).rest()).forEach(t -> ids.add(t.getId()));
        }
        assertThat(decodeStepsWithMoreThanOneRow() - wideBefore).as("decode steps that computed two or more of these streams together")
                .isPositive();
        for (int i = 0; i < 16; i++) {
            List<Long> alone = GrpcStream.tokens(GrpcStream.start(generator,
                    start(prompts[i]).setSteering(steerings.get(i)).setMaxTokens(12).setIgnoreEos(true).build()).rest()).stream().map(Token::getId).toList();
            assertThat(concurrent.get(i)).as("stream %d (%s)", i, prompts[i]).isEqualTo(alone);
        }
        assertThat(concurrent).as("12 tokens from every stream").allSatisfy(ids -> assertThat(ids).hasSize(12));
    }

    /** From the model's {@code headgate_batch_rows} histogram: decode steps above its first bucket (1 row). */
    private long decodeStepsWithMoreThanOneRow() {
        HistogramSnapshot rows = meters.find("headgate.batch.rows").tag("model", MODEL).summary().takeSnapshot();
        CountAtBucket one = Arrays.stream(rows.histogramCounts()).filter(b -> b.bucket() == 1).findFirst().orElseThrow();
        return rows.count() - (long) one.count();
    }

    @Test
    void cancellingMidStreamFreesTheSlotForTheNextStream() throws Exception {
        Scheduler scheduler = model().model().scheduler();
        GrpcStream s = GrpcStream.start(generator, start("((((((((=").setCreditWindow(1).build());
        s.nextToken();
        assertThat(scheduler.activeStreams()).isEqualTo(1);
        s.cancel();
        await("the cancelled stream's slot freed").atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(scheduler.activeStreams()).isZero());
        // every slot can be taken again: as many held streams as slots, none waiting
        List<GrpcStream> held = new ArrayList<>();
        for (int i = 0; i < scheduler.slots(); i++) held.add(GrpcStream.start(generator, start("((=").setCreditWindow(1).build()));
        for (GrpcStream h : held) h.nextToken();
        assertThat(scheduler.activeStreams()).isEqualTo(scheduler.slots());
        assertThat(scheduler.waitingStreams()).isZero();
        for (GrpcStream h : held) h.cancel();
        await("every slot freed").atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(scheduler.activeStreams()).isZero());
    }

    @Test
    void aBadSteerIsRejectedAndTheStreamGoesOn() throws Exception {
        GrpcStream s = GrpcStream.start(generator, start("([{<([{<=").setMaxTokens(8).setCreditWindow(1).build());
        s.nextToken();
        s.steer(Steer.newBuilder().setSteering(profile("no-such-profile")).build());
        s.steer(Steer.newBuilder().setSteering(Steering.newBuilder().setInline(ProfileSpec.newBuilder()
                .addGains(HeadGain.newBuilder().setLayer(9).setHead(0).setGain(1f)))).build());
        s.steer(Steer.newBuilder().build());
        s.ack(1000);
        List<GenerateEvent> rest = s.rest();
        assertThat(s.error()).isNull();
        List<String> fields = rest.stream().filter(GenerateEvent::hasSteeringRejected).map(e -> e.getSteeringRejected().getField()).toList();
        assertThat(fields).containsExactly("steer.steering.profile", "steer.steering.inline.gains[0].layer", "steer.steering");
        assertThat(rest.stream().noneMatch(GenerateEvent::hasSteeringApplied)).isTrue();
        assertThat(GrpcStream.tokens(rest)).isNotEmpty().allSatisfy(t -> assertThat(t.getSteering().getProfile()).isEqualTo("identity"));
        assertThat(rest.getLast().hasFinished()).isTrue();
    }

    @Test
    void aStreamFollowingAProfileNamePicksUpItsNewRevision() throws Exception {
        String name = "follow-" + UUID.randomUUID().toString().substring(0, 8);
        ProfileSpec v1 = ProfileSpec.newBuilder().addGains(HeadGain.newBuilder().setLayer(0).setHead(0).setGain(1.1f)).build();
        ProfileSpec v2 = ProfileSpec.newBuilder().addGains(HeadGain.newBuilder().setLayer(3).setHead(-1).setGain(0f)).build();
        admin().put(PutProfileRequest.newBuilder().setModel(MODEL).setName(name).setSpec(v1).build()).await().atMost(Duration.ofSeconds(10));
        GrpcStream s = GrpcStream.start(generator, start("((((((((((=").setSteering(profile(name)).setMaxTokens(10).setCreditWindow(1).build());
        GenerateEvent started = s.next();
        assertThat(started.getStarted().getFollowing()).isTrue();
        assertThat(s.nextToken().getSteering().getRevision()).isEqualTo(1);
        admin().put(PutProfileRequest.newBuilder().setModel(MODEL).setName(name).setSpec(v2).setExpectedRevision(1).build())
                .await().atMost(Duration.ofSeconds(10));
        s.ack(1000);
        List<GenerateEvent> rest = s.rest();
        GenerateEvent applied = rest.stream().filter(GenerateEvent::hasSteeringApplied).findFirst().orElseThrow();
        assertThat(applied.getSteeringApplied().getReason()).isEqualTo("follow");
        assertThat(applied.getSteeringApplied().getSteering().getRevision()).isEqualTo(2);
        assertThat(applied.getSteeringApplied().getFromIndex()).isEqualTo(1);
        assertThat(GrpcStream.tokens(rest)).allSatisfy(t -> assertThat(t.getSteering().getRevision()).isEqualTo(2));
    }

    @Test
    void ignoreEosGeneratesExactlyMaxTokens() throws Exception {
        List<GenerateEvent> normal = GrpcStream.start(generator, start("((=").setMaxTokens(20).build()).rest();
        assertThat(normal.getLast().getFinished().getReason()).isEqualTo(io.headgate.api.v1.Finished.Reason.EOS);
        List<GenerateEvent> forced = GrpcStream.start(generator, start("((=").setMaxTokens(20).setIgnoreEos(true).build()).rest();
        assertThat(GrpcStream.tokens(forced)).hasSize(20);
        assertThat(forced.getLast().getFinished().getReason()).isEqualTo(io.headgate.api.v1.Finished.Reason.MAX_TOKENS);
    }

    @Test
    void shippedProfilesVisiblyChangeTheOutput() throws Exception {
        String prompt = "{(<[()]([{=";
        List<Long> identity = GrpcStream.tokens(GrpcStream.start(generator, start(prompt).build()).rest()).stream().map(Token::getId).toList();
        for (String shipped : List.of("ablate-l3", "pag-l1")) {
            List<Long> steered = GrpcStream.tokens(GrpcStream.start(generator, start(prompt).setSteering(profile(shipped)).build()).rest())
                    .stream().map(Token::getId).toList();
            assertThat(steered).as(shipped).isNotEqualTo(identity);
        }
    }
}
