package io.headgate.engine;

import io.headgate.engine.lm.CausalLmWorkload;
import io.headgate.engine.lm.LmRequest;
import io.headgate.engine.lm.SamplingParams;
import io.headgate.engine.lm.TokenEvent;
import io.headgate.model.BundleManifest;
import io.headgate.model.lm.CausalLmGraph;
import io.headgate.model.ControlRow;
import io.headgate.steer.Steering;
import io.headgate.steer.SteeringTag;
import io.headgate.testing.CollectingSink;
import io.headgate.testing.ParensLm;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The scheduler without gRPC: batching, credit pauses (slot swaps), steering timing, bounds, shutdown. */
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

    @Test
    void pausedAndResumedStreamsEqualEachStreamAlone() throws Exception {
        String[] prompts = {"([{<=", "((((((((=", "{<[=", "57+681=", "<<{{[[((=", "([]{<>}=", "9+9=", "[[[[[[=" };
        int[] credit = {0, 1, 2, 3, 1, 0, 2, 1};
        Random random = new Random(3);
        try (CausalLmGraph graph = ParensLm.graph()) {
            CausalLmWorkload workload = ParensLm.workload(graph, 4); // fewer slots than streams: some wait
            try (Scheduler scheduler = ParensLm.scheduler(workload, 16)) {
                List<CollectingSink> sinks = new ArrayList<>();
                List<Stream> streams = new ArrayList<>();
                List<ControlRow> rows = new ArrayList<>();
                for (int i = 0; i < prompts.length; i++) {
                    ControlRow row = i == 0 ? ControlRow.identity(dims) : randomRow(random);
                    rows.add(row);
                    CollectingSink sink = new CollectingSink();
                    sinks.add(sink);
                    streams.add(scheduler.submit(workload.open(greedy(prompts[i], 12)), steering("p" + i, 1, row),
                            prompts[i].length() + 1, credit[i], sink));
                }
                // acknowledge every token, slowly and at different paces, so streams pause and resume
                List<Thread> readers = new ArrayList<>();
                for (int i = 0; i < prompts.length; i++) {
                    int id = i;
                    Thread t = new Thread(() -> {
                        try {
                            long consumed = 0;
                            while (!sinks.get(id).done.isDone()) {
                                var e = sinks.get(id).events.poll(50, TimeUnit.MILLISECONDS);
                                if (e instanceof TokenEvent) {
                                    Thread.sleep(id % 3);
                                    scheduler.acknowledge(streams.get(id), ++consumed);
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
                for (Thread t : readers) t.join(5000);
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
            try (Scheduler scheduler = ParensLm.scheduler(workload, 4)) {
                for (int k : new int[]{0, 2, 5}) {
                    CollectingSink sink = new CollectingSink();
                    Stream s = scheduler.submit(workload.open(new LmRequest(prompt, SamplingParams.greedy(), 10, List.of())),
                            steering("a", 1, before), prompt.length, 1, sink);
                    for (int i = 0; i <= k; i++) {
                        TokenEvent t = sink.nextToken();
                        assertThat(t.steering().profile()).isEqualTo("a");
                        if (i == k) scheduler.steer(s, steering("b", 7, after), false);
                        scheduler.acknowledge(s, i + 1);
                    }
                    scheduler.acknowledge(s, 1000); // the rest runs without pauses
                    List<StreamEvent> events = sink.awaitDone();
                    var applied = events.stream().filter(e -> e instanceof StreamEvent.SteeringApplied).map(e -> (StreamEvent.SteeringApplied) e).toList();
                    assertThat(applied).hasSize(1);
                    assertThat(applied.getFirst().fromIndex()).isEqualTo(k + 1);
                    List<TokenEvent> tokens = events.stream().filter(e -> e instanceof TokenEvent).map(e -> (TokenEvent) e).toList();
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
            try (Scheduler scheduler = ParensLm.scheduler(workload, 1)) {
                List<Stream> held = new ArrayList<>();
                List<CollectingSink> sinks = new ArrayList<>();
                for (int i = 0; i < 3; i++) { // two slots (paused by credit) and one waiting
                    CollectingSink sink = new CollectingSink();
                    sinks.add(sink);
                    held.add(scheduler.submit(workload.open(greedy("((((=", 8)), steering("x", 1, ControlRow.identity(dims)), 6, 1, sink));
                }
                sinks.get(0).nextToken();
                sinks.get(1).nextToken();
                Rejection r = assertThrows(Rejection.class, () -> scheduler.submit(workload.open(greedy("((=", 4)),
                        steering("x", 1, ControlRow.identity(dims)), 3, 0, new CollectingSink()));
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
        Scheduler scheduler = ParensLm.scheduler(workload, 4);
        CollectingSink running = new CollectingSink(), waiting = new CollectingSink();
        scheduler.submit(workload.open(greedy("((((=", 8)), steering("x", 1, ControlRow.identity(dims)), 6, 1, running);
        scheduler.submit(workload.open(greedy("((((=", 8)), steering("x", 1, ControlRow.identity(dims)), 6, 1, waiting);
        running.nextToken();
        scheduler.close();
        for (CollectingSink sink : List.of(running, waiting)) {
            List<StreamEvent> events = sink.awaitDone();
            assertThat(events.getLast()).isInstanceOfSatisfying(StreamEvent.Finished.class,
                    f -> assertThat(f.reason()).isEqualTo(StreamEvent.FinishReason.SHUTDOWN));
        }
        Rejection r = assertThrows(Rejection.class, () -> scheduler.submit(workload.open(greedy("((=", 4)),
                steering("x", 1, ControlRow.identity(dims)), 3, 0, new CollectingSink()));
        assertThat(r.kind()).isEqualTo(Rejection.Kind.UNAVAILABLE);
    }

    static void awaitIdle(Scheduler scheduler) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while ((scheduler.activeStreams() > 0 || scheduler.waitingStreams() > 0) && System.nanoTime() < deadline) Thread.sleep(5);
        assertThat(scheduler.activeStreams()).as("active streams").isZero();
        assertThat(scheduler.waitingStreams()).as("waiting streams").isZero();
    }
}
