package io.headgate.engine;

import io.headgate.engine.lm.CausalLmWorkload;
import io.headgate.engine.lm.Completion;
import io.headgate.engine.lm.LmRequest;
import io.headgate.engine.lm.LmState;
import io.headgate.engine.lm.SamplingParams;
import io.headgate.engine.lm.TokenEvent;
import io.headgate.model.BundleManifest;
import io.headgate.model.ControlRow;
import io.headgate.model.lm.CausalLmGraph;
import io.headgate.steer.Steering;
import io.headgate.steer.SteeringTag;
import io.headgate.testing.LmSink;
import io.headgate.testing.ParensLm;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The scheduler on the language model, without gRPC: batching, credit pauses, steering timing, bounds, shutdown. */
class SchedulerTest {

    static CausalLmGraph reference;
    static BundleManifest.Dimensions dims;

    @BeforeAll
    static void load() throws Exception {
        reference = ParensLm.graph();
        dims = reference.manifest().dimensions();
    }

    @AfterAll
    static void close() throws Exception {
        reference.close();
    }

    static Steering steering(String name, long revision, ControlRow row) {
        return new Steering(new SteeringTag(name, revision), row, null);
    }

    static ControlRow randomRow(Random random) {
        ControlRow row = ControlRow.identity(dims);
        for (int i = 0; i < row.gain().length; i++) {
            if (random.nextFloat() < 0.3f) row.gain()[i] = random.nextFloat() * 2;
            if (random.nextFloat() < 0.1f) row.mix()[i] = random.nextFloat();
        }
        return row;
    }

    static LmRequest greedy(String prompt, int maxTokens) {
        return new LmRequest(ParensLm.encode(prompt), SamplingParams.greedy(), maxTokens, List.of());
    }

    /** Counts the slot exchanges the scheduler asks of the workload. */
    static final class CountingSwaps extends ForwardingWorkload<LmState, Void, TokenEvent, Completion> {
        final AtomicInteger swaps = new AtomicInteger();

        CountingSwaps(Workload<LmState, Void, TokenEvent, Completion> inner) {
            super(inner);
        }

        @Override
        public void swap(int a, int b, Stream<LmState, TokenEvent, Completion> inA, Stream<LmState, TokenEvent, Completion> inB) {
            swaps.incrementAndGet();
            super.swap(a, b, inA, inB);
        }
    }

    /**
     * Eight streams on four slots with credit windows 0–3, acknowledged token by token: a stream
     * with a window pauses exactly when it is that many tokens ahead (no further token arrives until
     * the Ack), resumes after it, and every stream's tokens equal the same stream decoded alone.
     */
    @Test
    void pausedAndResumedStreamsEqualEachStreamAlone() throws Exception {
        String[] prompts = {"([{<=", "((((((((=", "{<[=", "57+681=", "<<{{[[((=", "([]{<>}=", "9+9=", "[[[[[[="};
        int[] credit = {0, 1, 2, 3, 1, 0, 2, 1};
        Random random = new Random(3);
        try (CausalLmGraph graph = ParensLm.graph()) {
            CausalLmWorkload workload = ParensLm.workload(graph, 4); // fewer slots than streams: some wait
            try (var scheduler = ParensLm.scheduler(workload, 16)) {
                List<LmSink> sinks = new ArrayList<>();
                List<Stream<LmState, TokenEvent, Completion>> streams = new ArrayList<>();
                List<ControlRow> rows = new ArrayList<>();
                for (int i = 0; i < prompts.length; i++) {
                    ControlRow row = i == 0 ? ControlRow.identity(dims) : randomRow(random);
                    rows.add(row);
                    LmSink sink = new LmSink();
                    sinks.add(sink);
                    streams.add(scheduler.submit(workload.open(greedy(prompts[i], 12)), steering("p" + i, 1, row), credit[i], sink));
                }
                int[] pauses = new int[prompts.length];
                List<Thread> readers = new ArrayList<>();
                for (int i = 0; i < prompts.length; i++) {
                    int id = i;
                    Thread t = new Thread(() -> {
                        try {
                            long consumed = 0;
                            int received = 0;
                            while (!sinks.get(id).done.isDone()) {
                                var e = sinks.get(id).events.poll(50, TimeUnit.MILLISECONDS);
                                if (!(e instanceof StreamEvent.Output<TokenEvent, Completion>)) continue;
                                received++;
                                if (credit[id] > 0 && received - consumed == credit[id]) {
                                    // out of credit: nothing more may arrive until we acknowledge
                                    var early = sinks.get(id).events.poll(30, TimeUnit.MILLISECONDS);
                                    if (early instanceof StreamEvent.Output<TokenEvent, Completion>) {
                                        throw new AssertionError("stream " + id + " ran past its credit window");
                                    }
                                    if (early != null) sinks.get(id).events.add(early); // a Finished: read it next
                                    pauses[id]++;
                                    consumed = received;
                                    scheduler.acknowledge(streams.get(id), consumed);
                                }
                            }
                        } catch (InterruptedException ignored) {
                        }
                    });
                    t.start();
                    readers.add(t);
                }
                for (int i = 0; i < prompts.length; i++) {
                    List<Long> expected = ParensLm.greedy(reference, ParensLm.encode(prompts[i]), rows.get(i), rows.get(i), 0, 12);
                    assertThat(sinks.get(i).tokens()).as("stream %d (%s, credit %d)", i, prompts[i], credit[i]).isEqualTo(expected);
                }
                for (Thread t : readers) {
                    t.join(5000);
                    assertThat(t.isAlive()).as("reader still running").isFalse();
                }
                for (int i = 0; i < prompts.length; i++) {
                    if (credit[i] > 0) assertThat(pauses[i]).as("pauses of stream %d (credit %d)", i, credit[i]).isGreaterThan(0);
                }
                awaitIdle(scheduler);
            }
        }
    }

    /**
     * A stream that pauses for a few steps keeps its slot (no KV copy); one paused for longer than
     * {@code compactAfterPausedSteps} among running streams is moved behind them exactly once.
     */
    @Test
    void pausedStreamsKeepTheirSlotUntilALongPause() throws Exception {
        try (CausalLmGraph graph = ParensLm.graph()) {
            CountingSwaps workload = new CountingSwaps(ParensLm.workload(graph, 4));
            var config = new Scheduler.Config(4, 512, 16, Duration.ZERO, 16, 8);
            try (var scheduler = new Scheduler<>("parens-lm", workload, config, EngineMetrics.detached())) {
                CausalLmWorkload lm = (CausalLmWorkload) workload.inner();
                LmSink paused = new LmSink(), running = new LmSink();
                // slot 0 pauses after one token; slot 1 runs 30 tokens past it
                var p = scheduler.submit(lm.open(new LmRequest(ParensLm.encode("(((="), SamplingParams.greedy(), 40, List.of(),
                        true, LmRequest.Shadow.NONE)), steering("x", 1, ControlRow.identity(dims)), 1, paused);
                paused.nextToken();
                var r = scheduler.submit(lm.open(new LmRequest(ParensLm.encode("[[="), SamplingParams.greedy(), 30, List.of(),
                        true, LmRequest.Shadow.NONE)), steering("x", 1, ControlRow.identity(dims)), 0, running);
                assertThat(running.tokens()).hasSize(30);
                assertThat(workload.swaps.get()).as("one swap for the long pause").isEqualTo(1);
                scheduler.acknowledge(p, 1000);
                assertThat(paused.tokens()).hasSize(40);
                assertThat(workload.swaps.get()).as("no swap once it runs again").isEqualTo(1);

                // short pauses: two streams acknowledged token by token never swap
                int before = workload.swaps.get();
                List<LmSink> sinks = List.of(new LmSink(), new LmSink());
                List<Stream<LmState, TokenEvent, Completion>> streams = new ArrayList<>();
                for (LmSink sink : sinks) {
                    streams.add(scheduler.submit(lm.open(greedy("{<[(=", 4)), steering("x", 1, ControlRow.identity(dims)), 1, sink));
                }
                for (int k = 1; k <= 4; k++) {
                    for (int i = 0; i < 2; i++) {
                        sinks.get(i).nextToken();
                        scheduler.acknowledge(streams.get(i), k);
                    }
                }
                for (LmSink sink : sinks) sink.awaitDone();
                assertThat(workload.swaps.get()).as("short pauses").isEqualTo(before);
                awaitIdle(scheduler);
            }
        }
    }

    @Test
    void steeringTakesEffectAtTheFirstStepAfterItArrives() throws Exception {
        Random random = new Random(11);
        ControlRow before = ControlRow.identity(dims), after = randomRow(random);
        long[] prompt = ParensLm.encode("{(<[()]([{=");
        try (CausalLmGraph graph = ParensLm.graph()) {
            CausalLmWorkload workload = ParensLm.workload(graph, 2);
            try (var scheduler = ParensLm.scheduler(workload, 4)) {
                for (int k : new int[]{0, 2, 5}) {
                    LmSink sink = new LmSink();
                    var s = scheduler.submit(workload.open(new LmRequest(prompt, SamplingParams.greedy(), 10, List.of())),
                            steering("a", 1, before), 1, sink);
                    for (int i = 0; i <= k; i++) {
                        TokenEvent t = sink.nextToken();
                        assertThat(t.steering().profile()).isEqualTo("a");
                        if (i == k) scheduler.steer(s, steering("b", 7, after), false);
                        scheduler.acknowledge(s, i + 1);
                    }
                    scheduler.acknowledge(s, 1000); // the rest runs without pauses
                    var events = sink.awaitDone();
                    var applied = events.stream().filter(e -> e instanceof StreamEvent.SteeringApplied)
                            .map(e -> (StreamEvent.SteeringApplied<TokenEvent, Completion>) e).toList();
                    assertThat(applied).hasSize(1);
                    assertThat(applied.getFirst().fromIndex()).isEqualTo(k + 1);
                    List<TokenEvent> tokens = sink.outputs();
                    for (TokenEvent t : tokens) assertThat(t.steering().profile()).isEqualTo(t.index() <= k ? "a" : "b");
                    List<Long> expected = ParensLm.greedy(reference, prompt, before, after, k + 1, 10);
                    assertThat(tokens.stream().map(TokenEvent::id).toList()).as("switch after token %d", k).isEqualTo(expected);
                }
            }
        }
    }

    @Test
    void queueIsBoundedAndCancelFreesTheSlot() throws Exception {
        try (CausalLmGraph graph = ParensLm.graph()) {
            CausalLmWorkload workload = ParensLm.workload(graph, 2);
            try (var scheduler = ParensLm.scheduler(workload, 1)) {
                List<Stream<LmState, TokenEvent, Completion>> held = new ArrayList<>();
                List<LmSink> sinks = new ArrayList<>();
                for (int i = 0; i < 3; i++) { // two slots (paused by credit) and one waiting
                    LmSink sink = new LmSink();
                    sinks.add(sink);
                    held.add(scheduler.submit(workload.open(greedy("((((=", 8)), steering("x", 1, ControlRow.identity(dims)), 1, sink));
                }
                sinks.get(0).nextToken();
                sinks.get(1).nextToken();
                Rejection r = assertThrows(Rejection.class, () -> scheduler.submit(workload.open(greedy("((=", 4)),
                        steering("x", 1, ControlRow.identity(dims)), 0, new LmSink()));
                assertThat(r.kind()).isEqualTo(Rejection.Kind.EXHAUSTED);
                assertThat(scheduler.activeStreams()).isEqualTo(2);
                assertThat(scheduler.waitingStreams()).isEqualTo(1);

                scheduler.cancel(held.get(0)); // frees a slot: the waiting stream takes it
                sinks.get(2).nextToken();
                assertThat(scheduler.waitingStreams()).isZero();
                scheduler.cancel(held.get(1));
                scheduler.cancel(held.get(2));
                awaitIdle(scheduler);
            }
        }
    }

    @Test
    void shutdownEndsEveryStreamWithAFinalEvent() throws Exception {
        CausalLmGraph graph = ParensLm.graph();
        CausalLmWorkload workload = ParensLm.workload(graph, 1);
        var scheduler = ParensLm.scheduler(workload, 4);
        LmSink running = new LmSink(), waiting = new LmSink();
        scheduler.submit(workload.open(greedy("((((=", 8)), steering("x", 1, ControlRow.identity(dims)), 1, running);
        scheduler.submit(workload.open(greedy("((((=", 8)), steering("x", 1, ControlRow.identity(dims)), 1, waiting);
        running.nextToken();
        scheduler.close();
        for (LmSink sink : List.of(running, waiting)) {
            assertThat(sink.finished().ending()).isInstanceOf(StreamEvent.Ending.Shutdown.class);
        }
        assertThat(scheduler.thread().isAlive()).isFalse();
        assertThat(graph.closed()).as("the graph is released after the thread stopped").isTrue();
        Rejection r = assertThrows(Rejection.class, () -> scheduler.submit(workload.open(greedy("((=", 4)),
                steering("x", 1, ControlRow.identity(dims)), 0, new LmSink()));
        assertThat(r.kind()).isEqualTo(Rejection.Kind.UNAVAILABLE);
    }

    static void awaitIdle(Scheduler<?, ?, ?, ?> scheduler) {
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(scheduler.activeStreams()).as("active streams").isZero();
            assertThat(scheduler.waitingStreams()).as("waiting streams").isZero();
        });
    }
}
