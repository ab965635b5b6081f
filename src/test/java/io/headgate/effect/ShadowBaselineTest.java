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
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.assertj.core.api.Assertions.within;

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
