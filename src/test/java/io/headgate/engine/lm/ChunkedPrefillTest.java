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
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;

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
     * Between any two of a running stream's tokens, the long prompt's cached length grows by at most
     * one step's budget: the running stream gets a token in every step of the prefill, so the prompt
     * delays it by at most one step's budget of prompt tokens. Read whole (a budget above the prompt),
     * one step reads the whole prompt between two of its tokens.
     */
    @Test
    void aLongPromptDelaysRunningStreamsByAtMostOneStepsBudget() throws Exception {
        long[] prompt = ParensLm.encode("(".repeat(28) + ")".repeat(27) + "=");
        int budget = 8;
        List<Integer> chunked = promptReadBetweenTokens(new CausalLmWorkload.Config(4, 0, budget), prompt);
        assertThat(chunked).as("prompt tokens read between two tokens of the running stream").allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(budget));
        assertThat(chunked.stream().mapToInt(Integer::intValue).sum()).as("the whole prompt was read").isEqualTo(prompt.length);
        assertThat(chunked.stream().filter(n -> n > 0).count()).as("steps that read part of the prompt, each with a running token")
                .isEqualTo((prompt.length + budget - 1) / budget);

        List<Integer> whole = promptReadBetweenTokens(new CausalLmWorkload.Config(4, 0, 512), prompt);
        assertThat(whole).as("read whole: one step, between two of the running stream's tokens").contains(prompt.length);
    }

    /**
     * With a prefill share, a step beside decoding streams reads what the decode pass's time allows:
     * a share far below any prompt token's cost reads the floor per step, one far above it the token
     * budget.
     */
    @Test
    void aPrefillSharePacesTheChunksByTheDecodePass() throws Exception {
        long[] prompt = ParensLm.encode("(".repeat(28) + ")".repeat(27) + "=");
        int floor = CausalLmWorkload.PACED_FLOOR;
        assertThat(prompt.length).isGreaterThan(floor);
        List<Integer> paced = promptReadBetweenTokens(new CausalLmWorkload.Config(4, 0, 512, 1e-9), prompt);
        assertThat(paced).as("prompt tokens read between two tokens of the running stream").allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(floor));
        assertThat(paced.stream().filter(n -> n > 0).count()).as("a floor's worth a step").isEqualTo((prompt.length + floor - 1) / floor);
        assertThat(paced.stream().mapToInt(Integer::intValue).sum()).as("the whole prompt was read").isEqualTo(prompt.length);

        List<Integer> ample = promptReadBetweenTokens(new CausalLmWorkload.Config(4, 0, 512, 1e9), prompt);
        assertThat(ample).as("a share above the prompt's cost: the token budget, so one step").contains(prompt.length);
    }

    /**
     * A burst of short prompts beside as many decoding streams (so the step is paced), paced to the
     * floor: each step reads whole prompts, several to a pass, rather than a sliver of every prompt.
     * Slivers would finish none in that step, and each begun prompt would then need a pass of its own
     * (GroupQueryAttention takes one row at a time once a row has a past), so the burst's last first
     * token would come a step per prompt later.
     */
    @Test
    void aBurstOfShortPromptsIsReadWholeSeveralToAPass() throws Exception {
        long[] prompt = ParensLm.encode("()=");
        int burst = 8, perPass = CausalLmWorkload.PACED_FLOOR / prompt.length;
        assertThat(perPass).as("the floor reads several such prompts").isBetween(2, burst - 1);
        BurstReading reading = burstBeside(burst, prompt, burst);
        assertThat(reading.begunUnfinished()).as("prompts begun but not finished, at each of the running stream's tokens").containsOnly(0);
        int steps = (burst + perPass - 1) / perPass;
        assertThat(reading.finished().subList(0, steps)).as("prompts read, step by step")
                .isEqualTo(IntStream.rangeClosed(1, steps).map(k -> Math.min(burst, k * perPass)).boxed().toList());
    }

    /**
     * A burst of more prompts than there are decoding streams is a batch starting: it is read within
     * the token budget alone, whatever the share, so here all of it in the step after it arrives.
     */
    @Test
    void aBurstOutnumberingTheDecodingStreamsIsReadByTheTokenBudget() throws Exception {
        int burst = 4;
        BurstReading reading = burstBeside(1, ParensLm.encode("()="), burst);
        assertThat(reading.finished().getFirst()).as("prompts read in the step after the burst came").isEqualTo(burst);
    }

    /** At each of the running stream's tokens after a burst came: its prompts read, and those begun but not finished. */
    record BurstReading(List<Integer> finished, List<Integer> begunUnfinished) {
    }

    /**
     * {@code decoding} streams decode (a share far below any token's cost, so a paced step reads the
     * floor); at the second token of the last of them, {@code burst} copies of {@code prompt} are
     * queued at once, on the scheduler thread between steps, so one turn admits them all.
     */
    static BurstReading burstBeside(int decoding, long[] prompt, int burst) throws Exception {
        try (CausalLmGraph graph = ParensLm.graph()) {
            var ident = new Steering(SteeringTag.IDENTITY, ControlRow.identity(graph.manifest().dimensions()), null);
            var workload = new CausalLmWorkload(graph, new CausalLmWorkload.Config(16, 0, 512, 1e-9), ParensLm::decode,
                    LmMeters.detached("parens-lm"));
            List<LmState> states = new ArrayList<>();
            for (int i = 0; i < burst; i++) {
                states.add(workload.open(new LmRequest(prompt, SamplingParams.greedy(), 2, List.of(), true, LmRequest.Shadow.NONE)));
            }
            List<LmSink> sinks = new ArrayList<>();
            BurstReading reading = new BurstReading(new ArrayList<>(), new ArrayList<>());
            AtomicReference<Scheduler<LmState, Void, TokenEvent, Completion>> scheduler = new AtomicReference<>();
            LmSink running = new LmSink() {
                int tokens;

                @Override
                public void event(StreamEvent<TokenEvent, Completion> event) {
                    if (event instanceof StreamEvent.Output<TokenEvent, Completion> && ++tokens == 2) {
                        for (LmState st : states) {
                            sinks.add(new LmSink());
                            scheduler.get().submit(st, ident, 0, sinks.getLast());
                        }
                    } else if (event instanceof StreamEvent.Output<TokenEvent, Completion> && tokens > 2) {
                        int finished = 0, begun = 0;
                        for (LmState st : states) {
                            if (st.decoding || st.promptLogits != null) finished++;
                            else if (st.cached > 0) begun++;
                        }
                        reading.finished().add(finished);
                        reading.begunUnfinished().add(begun);
                    }
                    super.event(event);
                }
            };
            try (var s = new Scheduler<>("parens-lm", workload, new Scheduler.Config(16), EngineMetrics.detached())) {
                scheduler.set(s);
                List<LmSink> decoders = new ArrayList<>();
                for (int i = 0; i < decoding; i++) {
                    decoders.add(i == decoding - 1 ? running : new LmSink());
                    s.submit(workload.open(new LmRequest(ParensLm.encode("((="), SamplingParams.greedy(), 50, List.of(), true,
                            LmRequest.Shadow.NONE)), ident, 0, decoders.getLast());
                }
                for (LmSink sink : decoders) assertThat(sink.outputs()).as("the decoding streams ran to their end").hasSize(50);
                for (LmSink sink : sinks) assertThat(sink.outputs()).hasSize(2);
            }
            return reading;
        }
    }

    /**
     * Runs a short prompt, then submits {@code prompt} beside it; returns, for each token of the
     * running stream until the long prompt's first token, how many of its prompt tokens were cached
     * since the running stream's previous token. The sink runs on the scheduler thread, between steps,
     * so it reads the long stream's state where the workload leaves it.
     */
    static List<Integer> promptReadBetweenTokens(CausalLmWorkload.Config config, long[] prompt) throws Exception {
        try (CausalLmGraph graph = ParensLm.graph()) {
            var ident = new Steering(SteeringTag.IDENTITY, ControlRow.identity(graph.manifest().dimensions()), null);
            var workload = new CausalLmWorkload(graph, config, ParensLm::decode, LmMeters.detached("parens-lm"));
            LmState longState = workload.open(new LmRequest(prompt, SamplingParams.greedy(), 2, List.of(), true, LmRequest.Shadow.NONE));
            List<Integer> read = new ArrayList<>();
            java.util.concurrent.atomic.AtomicBoolean submitted = new java.util.concurrent.atomic.AtomicBoolean();
            LmSink running = new LmSink() {
                int lastCached;

                @Override
                public void event(StreamEvent<TokenEvent, Completion> event) {
                    if (event instanceof StreamEvent.Output<TokenEvent, Completion> && submitted.get() && !longState.decoding) {
                        read.add(longState.cached - lastCached);
                        lastCached = longState.cached;
                    }
                    super.event(event);
                }
            };
            try (var s = new Scheduler<>("parens-lm", workload, new Scheduler.Config(4), EngineMetrics.detached())) {
                LmSink longPrompt = new LmSink();
                s.submit(workload.open(new LmRequest(ParensLm.encode("((="), SamplingParams.greedy(), 50, List.of(), true,
                        LmRequest.Shadow.NONE)), ident, 0, running);
                running.nextToken();
                running.nextToken(); // its second token came from a decode pass: a prefill share has it to go by
                submitted.set(true);
                s.submit(longState, ident, 0, longPrompt);
                assertThat(longPrompt.outputs()).hasSize(2);
                assertThat(running.outputs()).as("the running stream ran to its end").hasSize(50);
            }
            return read;
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
