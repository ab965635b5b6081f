package io.headgate.effect;

import io.headgate.engine.Scheduler;
import io.headgate.engine.Stream;
import io.headgate.engine.StreamEvent;
import io.headgate.engine.lm.CausalLmWorkload;
import io.headgate.engine.lm.LmRequest;
import io.headgate.engine.lm.SamplingParams;
import io.headgate.engine.lm.Completion;
import io.headgate.engine.lm.Effect;
import io.headgate.engine.lm.LmMeters;
import io.headgate.engine.lm.LmState;
import io.headgate.engine.lm.TokenEvent;
import io.headgate.model.lm.CausalLmGraph;
import io.headgate.model.ControlRow;
import io.headgate.steer.Steering;
import io.headgate.steer.SteeringTag;
import io.headgate.testing.LmSink;
import io.headgate.testing.ParensLm;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

/** The shadow baseline: exact zero under identity, the right KL under a profile, its slot freed with its stream. */
class ShadowBaselineTest {

    static CausalLmGraph reference;

    @BeforeAll
    static void load() throws Exception {
        reference = ParensLm.graph();
    }

    @AfterAll
    static void close() throws Exception {
        reference.close();
    }

    static LmRequest request(String prompt, int maxTokens, LmRequest.Shadow shadow) {
        return new LmRequest(ParensLm.encode(prompt), SamplingParams.greedy(), maxTokens, List.of(), true, shadow);
    }


    /**
     * Two-token distributions worked by hand. Steered logits (ln 3, 0): p = (3/4, 1/4); baseline
     * (0, ln 3): q = (1/4, 3/4). KL(p || q) = 3/4 ln((3/4)/(1/4)) + 1/4 ln((1/4)/(3/4)) = (3/4 - 1/4) ln 3
     * = ln(3)/2 = 0.5493061443, and the top token moves from 0 to 1. Against (0, 0), q = (1/2, 1/2):
     * KL = 3/4 ln(3/2) + 1/4 ln(1/2) = 0.3040988 - 0.1732868 = 0.1308120, top token 0 in both (a
     * tie goes to the first). Logits are read at the row's offset, and shifting them changes nothing.
     */
    @Test
    void effectBetweenTwoTokenDistributionsWorkedByHand() {
        float ln3 = (float) Math.log(3);
        FloatBuffer steered = FloatBuffer.wrap(new float[] {9f, -9f, 7f, ln3, 0f});
        Effect moved = Effect.between(steered, 3, new float[] {0f, ln3}, 2);
        assertThat(moved.kl()).isCloseTo(0.5493061443, within(1e-6));
        assertThat(moved.top1Changed()).isTrue();
        Effect kept = Effect.between(steered, 3, new float[] {0f, 0f}, 2);
        assertThat(kept.kl()).isCloseTo(0.1308120, within(1e-6));
        assertThat(kept.top1Changed()).isFalse();
        Effect shifted = Effect.between(FloatBuffer.wrap(new float[] {ln3 + 40f, 40f}), 0, new float[] {-5f, ln3 - 5f}, 2);
        assertThat(shifted.kl()).isCloseTo(0.5493061443, within(1e-5));
        assertThat(Effect.between(steered, 3, new float[] {ln3, 0f}, 2).kl()).as("the same distribution").isCloseTo(0, within(1e-9));
    }

    @Test
    void underIdentityTheKlIsZeroAndNoTopTokenChanges() throws Exception {
        var dims = reference.manifest().dimensions();
        try (CausalLmGraph graph = ParensLm.graph()) {
            CausalLmWorkload workload = new CausalLmWorkload(graph, new CausalLmWorkload.Config(2, 2, 512), ParensLm::decode, LmMeters.detached("parens-lm"));
            try (var scheduler = ParensLm.scheduler(workload, 4)) {
                LmSink sink = new LmSink();
                scheduler.submit(workload.open(request("{(<[()]([{=", 20, LmRequest.Shadow.REPORTED)),
                        new Steering(SteeringTag.IDENTITY, ControlRow.identity(dims), null), 0, sink);
                List<TokenEvent> tokens = sink.outputs();
                assertThat(tokens).hasSize(20).allSatisfy(t -> {
                    assertThat(t.effect()).isNotNull();
                    assertThat(t.effect().kl()).isZero();
                    assertThat(t.effect().top1Changed()).isFalse();
                });
            }
        }
    }

    @Test
    void underProfilesTheKlMatchesATeacherForcedReferenceAndShadowsAreFreed() throws Exception {
        var dims = reference.manifest().dimensions();
        Random random = new Random(5);
        String[] prompts = {"((((((=", "{<[({=", "<<{{[[((="};
        int[] lengths = {6, 16, 12}; // the first stream ends first: its shadow row's hole is refilled
        ControlRow[] rows = new ControlRow[3];
        for (int i = 0; i < 3; i++) {
            rows[i] = ControlRow.identity(dims);
            for (int h = 0; h < rows[i].gain().length; h++) rows[i].gain()[h] = 0.4f + random.nextFloat();
            for (int h = 0; h < dims.heads(); h++) rows[i].mix()[dims.heads() + h] = 0.6f; // layer 1 toward PAG
        }
        try (CausalLmGraph graph = ParensLm.graph()) {
            // two shadow rows for three streams: the third asks too late and runs without one
            CausalLmWorkload workload = new CausalLmWorkload(graph, new CausalLmWorkload.Config(4, 2, 512), ParensLm::decode, LmMeters.detached("parens-lm"));
            try (var scheduler = ParensLm.scheduler(workload, 4)) {
                List<LmSink> sinks = new ArrayList<>();
                List<Stream<LmState, TokenEvent, Completion>> streams = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    LmSink sink = new LmSink();
                    sinks.add(sink);
                    streams.add(scheduler.submit(workload.open(request(prompts[i], lengths[i], LmRequest.Shadow.REPORTED)),
                            new Steering(new SteeringTag("p" + i, 1), rows[i], null), 2, sink));
                    sink.nextToken(); // admitted in order
                }
                for (int i = 0; i < 3; i++) scheduler.acknowledge(streams.get(i), 1000);
                for (int i = 0; i < 3; i++) {
                    List<TokenEvent> tokens = sinks.get(i).outputs();
                    assertThat(tokens).hasSize(lengths[i]);
                    if (i == 2) {
                        assertThat(tokens).allSatisfy(t -> assertThat(t.effect()).isNull());
                        continue;
                    }
                    List<Long> ids = tokens.stream().map(TokenEvent::id).toList();
                    List<float[]> steered = ParensLm.teacherForced(reference, ParensLm.encode(prompts[i]), ids, rows[i]);
                    List<float[]> base = ParensLm.teacherForced(reference, ParensLm.encode(prompts[i]), ids, ControlRow.identity(dims));
                    boolean anyShift = false;
                    for (int k = 0; k < tokens.size(); k++) {
                        Effect expected = Effect.between(FloatBuffer.wrap(steered.get(k)), 0, base.get(k), dims.vocabSize());
                        assertThat(tokens.get(k).effect().kl()).as("stream %d token %d", i, k).isCloseTo(expected.kl(), within(1e-4));
                        assertThat(tokens.get(k).effect().top1Changed()).isEqualTo(expected.top1Changed());
                        anyShift |= expected.kl() > 1e-3;
                    }
                    assertThat(anyShift).as("the profile moves the distribution").isTrue();
                }
                await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                        assertThat(workload.shadowRows()).as("shadow rows after every stream ended").isZero());
            }
        }
    }
}
