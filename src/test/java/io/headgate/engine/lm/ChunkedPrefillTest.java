package io.headgate.engine.lm;

import io.headgate.engine.EngineMetrics;
import io.headgate.engine.Scheduler;
import io.headgate.engine.StreamEvent;
import io.headgate.model.BundleManifest;
import io.headgate.model.ControlRow;
import io.headgate.model.lm.CausalLmGraph;
import io.headgate.steer.Steering;
import io.headgate.steer.SteeringTag;
import io.headgate.testing.LmSink;
import io.headgate.testing.ParensLm;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Prompts prefilled in chunks that share steps with decoding streams: the same tokens, and no stall. */
class ChunkedPrefillTest {

    static Steering random(BundleManifest.Dimensions dims, Random random, int i) {
        ControlRow row = ControlRow.identity(dims);
        for (int h = 0; h < row.gain().length; h++) if (random.nextFloat() < 0.3f) row.gain()[h] = 0.5f + random.nextFloat();
        return new Steering(new SteeringTag("p" + i, 1), row, null);
    }

    @Test
    void chunksGiveTheTokensLogProbsAndEffectsOfAWholePrefill() throws Exception {
        String[] prompts = {"((([[[{{{<<<=", "57+681=", "{<[({<[(=", "([]{<>}([]{<>}=", "9+9=", "<<<<<<<<<<<<<<<<<<<<="};
        List<List<TokenEvent>> whole, chunked;
        try (CausalLmGraph graph = ParensLm.graph()) {
            var dims = graph.manifest().dimensions();
            Random random = new Random(8);
            List<Steering> steerings = new ArrayList<>();
            for (int i = 0; i < prompts.length; i++) steerings.add(random(dims, random, i));
            whole = runOn(512, prompts, steerings);
            chunked = runOn(3, prompts, steerings);
        }
        for (int i = 0; i < prompts.length; i++) {
            List<TokenEvent> a = whole.get(i), b = chunked.get(i);
            assertThat(b.stream().map(TokenEvent::id).toList()).as("stream %d tokens", i).isEqualTo(a.stream().map(TokenEvent::id).toList());
            for (int k = 0; k < a.size(); k++) {
                assertThat(b.get(k).logprob()).as("stream %d token %d log-prob", i, k).isCloseTo(a.get(k).logprob(), within(1e-5f));
                assertThat(b.get(k).effect().kl()).as("stream %d token %d KL", i, k).isCloseTo(a.get(k).effect().kl(), within(1e-5));
            }
        }
    }

    static List<List<TokenEvent>> runOn(int prefillTokensPerStep, String[] prompts, List<Steering> steerings) throws Exception {
        try (CausalLmGraph graph = ParensLm.graph()) {
            var workload = new CausalLmWorkload(graph, new CausalLmWorkload.Config(8, 8, prefillTokensPerStep), ParensLm::decode,
                    LmMeters.detached("parens-lm"));
            List<LmSink> sinks = new ArrayList<>();
            try (var s = new Scheduler<>("parens-lm", workload, new Scheduler.Config(16), EngineMetrics.detached())) {
                for (int i = 0; i < prompts.length; i++) {
                    LmSink sink = new LmSink();
                    sinks.add(sink);
                    var request = new LmRequest(ParensLm.encode(prompts[i]), new SamplingParams(0.8f, 0, 0.95f, 100 + i), 10, List.of(),
                            true, LmRequest.Shadow.REPORTED);
                    s.submit(workload.open(request), steerings.get(i), 0, sink);
                }
                List<List<TokenEvent>> out = new ArrayList<>();
                for (LmSink sink : sinks) out.add(sink.outputs());
                return out;
            }
        }
    }

    /**
     * A running stream keeps getting a token every step while a 57-token prompt is prefilled 8
     * tokens per step (8 steps); read whole, the prompt takes one step, in which the running stream
     * gets its token too (plus at most one while the new stream waits for admission).
     */
    @Test
    void aLongPromptDoesNotStallRunningStreams() throws Exception {
        assertThat(tokensDuringPrefill(8)).as("running stream's tokens while the long prompt is read in chunks of 8").isGreaterThanOrEqualTo(6);
        assertThat(tokensDuringPrefill(512)).as("... read whole").isLessThanOrEqualTo(2);
    }

    static int tokensDuringPrefill(int prefillTokensPerStep) throws Exception {
        AtomicLong clock = new AtomicLong();
        class Timed extends LmSink {
            final List<Long> at = new ArrayList<>();

            @Override
            public void event(StreamEvent<TokenEvent, Completion> event) {
                synchronized (at) {
                    at.add(clock.incrementAndGet());
                }
                super.event(event);
            }
        }
        try (CausalLmGraph graph = ParensLm.graph()) {
            var ident = new Steering(SteeringTag.IDENTITY, ControlRow.identity(graph.manifest().dimensions()), null);
            var workload = new CausalLmWorkload(graph, new CausalLmWorkload.Config(4, 0, prefillTokensPerStep), ParensLm::decode,
                    LmMeters.detached("parens-lm"));
            try (var s = new Scheduler<>("parens-lm", workload, new Scheduler.Config(4), EngineMetrics.detached())) {
                Timed running = new Timed(), longPrompt = new Timed();
                s.submit(workload.open(new LmRequest(ParensLm.encode("((="), SamplingParams.greedy(), 50, List.of(), true,
                        LmRequest.Shadow.NONE)), ident, 0, running);
                running.nextToken();
                long submitted = clock.get();
                s.submit(workload.open(new LmRequest(ParensLm.encode("(".repeat(28) + ")".repeat(27) + "="), SamplingParams.greedy(), 2,
                        List.of(), true, LmRequest.Shadow.NONE)), ident, 0, longPrompt);
                longPrompt.outputs();
                long firstTokenOfLong;
                synchronized (longPrompt.at) {
                    firstTokenOfLong = longPrompt.at.get(1); // [0] is Started
                }
                running.awaitDone();
                int during = 0;
                synchronized (running.at) {
                    for (long t : running.at) if (t > submitted && t < firstTokenOfLong) during++;
                }
                return during;
            }
        }
    }

    /**
     * A prompt longer than the admission budget is admitted while another stream runs (one stream
     * per turn always is), and then read in chunks: it finishes long before the running stream does.
     */
    @Test
    void aPromptAboveTheAdmissionBudgetIsAdmittedWhileOthersRun() throws Exception {
        try (CausalLmGraph graph = ParensLm.graph()) {
            var ident = new Steering(SteeringTag.IDENTITY, ControlRow.identity(graph.manifest().dimensions()), null);
            var workload = new CausalLmWorkload(graph, new CausalLmWorkload.Config(4, 0, 8), ParensLm::decode, LmMeters.detached("parens-lm"));
            var config = new Scheduler.Config(4, 8, 64, java.time.Duration.ZERO, 16, 8);
            try (var s = new Scheduler<>("parens-lm", workload, config, EngineMetrics.detached())) {
                java.util.concurrent.CountDownLatch submitted = new java.util.concurrent.CountDownLatch(1);
                LmSink longPrompt = new LmSink();
                LmSink running = new LmSink() {
                    int outputs;

                    @Override
                    public void event(StreamEvent<TokenEvent, Completion> event) {
                        super.event(event);
                        // hold the scheduler inside a step until the long prompt waits: the next turn admits it while this runs
                        if (event instanceof StreamEvent.Output<TokenEvent, Completion> && ++outputs == 3) {
                            try {
                                submitted.await(10, java.util.concurrent.TimeUnit.SECONDS);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        }
                    }
                };
                s.submit(workload.open(new LmRequest(ParensLm.encode("((="), SamplingParams.greedy(), 60, List.of(), true,
                        LmRequest.Shadow.NONE)), ident, 0, running);
                long[] prompt = ParensLm.encode("(".repeat(10) + ")".repeat(9) + "=");
                assertThat(prompt.length).as("the prompt costs more than the budget of 8").isGreaterThan(8);
                running.nextToken();
                s.submit(workload.open(new LmRequest(prompt, SamplingParams.greedy(), 2, List.of(), true, LmRequest.Shadow.NONE)), ident, 0,
                        longPrompt);
                submitted.countDown();
                assertThat(longPrompt.outputs()).hasSize(2);
                assertThat(running.done).as("the running stream (60 tokens) is still running").isNotDone();
                assertThat(running.outputs()).hasSize(60);
            }
        }
    }
}
