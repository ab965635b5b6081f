package io.headgate.engine;

import io.headgate.model.ControlRow;
import io.headgate.steer.Steering;
import io.headgate.steer.SteeringTag;
import io.headgate.testing.CollectingSink;
import io.headgate.testing.counter.CounterOutput;
import io.headgate.testing.counter.CounterResult;
import io.headgate.testing.counter.CounterState;
import io.headgate.testing.counter.CounterWorkload;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The scheduler with a kind that needs no model: rows per stream, client messages, faults, sleeping, shutdown, idleness. */
class KindAgnosticSchedulerTest {

    static final Scheduler.Config CONFIG = new Scheduler.Config(16, 512, 64, Duration.ZERO, 16, 8);

    static Steering gain(String name, float g) {
        ControlRow row = ControlRow.identity(CounterWorkload.DIMS);
        Arrays.fill(row.gain(), g);
        return new Steering(new SteeringTag(name, 1), row, null);
    }

    static CollectingSink<CounterOutput, CounterResult> sink() {
        return new CollectingSink<>();
    }

    @Test
    void eachStreamsRowsRunInOneBatchEachUnderItsOwnControlRow() throws Exception {
        MeterRegistry registry = new SimpleMeterRegistry();
        CounterWorkload workload = new CounterWorkload(4);
        CountDownLatch hold = new CountDownLatch(1);
        try (var scheduler = new Scheduler<>("counter", workload, CONFIG, new EngineMetrics(registry))) {
            // a slow admission holds the thread while the three queue, so they are admitted in one turn
            var blocker = scheduler.submit(new CounterState(1, 1, false).admittedSlowly(hold), gain("g", 1), 0, sink());
            await().atMost(Duration.ofSeconds(5)).until(() -> scheduler.activeStreams() == 1);
            float[] gains = {0.5f, 2f, 3f};
            List<CollectingSink<CounterOutput, CounterResult>> sinks = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                sinks.add(sink());
                scheduler.submit(new CounterState(i + 1, 5, false), gain("g" + i, gains[i]), 0, sinks.get(i));
            }
            scheduler.cancel(blocker); // released before the first step
            hold.countDown();
            for (int i = 0; i < 3; i++) {
                List<CounterOutput> outputs = sinks.get(i).outputs();
                assertThat(outputs).hasSize(5);
                for (CounterOutput o : outputs) {
                    long before = o.index(); // the count before step k is k
                    assertThat(o.counter()).isEqualTo(before + 1);
                    assertThat(o.rowValues()).hasSize(i + 1);
                    assertThat(o.rowValues()[0]).as("row 0 runs under the stream's steering").isEqualTo(gains[i] * before);
                    for (int r = 1; r <= i; r++) assertThat(o.rowValues()[r]).as("row %d", r).isEqualTo((r + 1) * before);
                }
                assertThat(((CounterResult) ((StreamEvent.Ending.Completed<?>) sinks.get(i).finished().ending()).result()).counter()).isEqualTo(5);
            }
            double maxRows = registry.get("headgate.batch.rows").tag("kind", CounterWorkload.KIND_NAME).summary().max();
            assertThat(maxRows).as("1 + 2 + 3 rows in one step").isEqualTo(6);
            assertThat(workload.violations).hasValue(0);
        }
    }

    @Test
    void messagesReachTheWorkloadInOrderBetweenSteps() throws Exception {
        CounterWorkload workload = new CounterWorkload(2);
        try (var scheduler = new Scheduler<>("counter", workload, CONFIG, EngineMetrics.detached())) {
            var sink = sink();
            CounterState state = new CounterState(2, 1_000_000, true); // steps only when a message arrived
            var stream = scheduler.submit(state, gain("g", 1), 0, sink);
            List<Long> sent = new ArrayList<>();
            for (long d = 1; d <= 400; d++) {
                sent.add(d * 7 % 13);
                while (true) {
                    try {
                        scheduler.deliver(stream, d * 7 % 13);
                        break;
                    } catch (Rejection r) { // more than 16 waiting: let the scheduler catch up
                        assertThat(r.kind()).isEqualTo(Rejection.Kind.EXHAUSTED);
                        Thread.onSpinWait();
                    }
                }
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> workload.messages.get() == 400);
            scheduler.cancel(stream);
            await().atMost(Duration.ofSeconds(5)).until(() -> scheduler.activeStreams() == 0);
            assertThat(state.received).isEqualTo(sent);
            int steps = sink.all.stream().filter(e -> e instanceof StreamEvent.Output).toList().size();
            assertThat(steps).as("a step only after a message").isBetween(1, 400);
            assertThat(workload.violations).as("messages never arrive during a step, always on the scheduler thread").hasValue(0);
        }
    }

    @Test
    void theMessageQueueOfAStreamIsBounded() throws Exception {
        CounterWorkload workload = new CounterWorkload(2);
        CountDownLatch slow = new CountDownLatch(1);
        try (var scheduler = new Scheduler<>("counter", workload, CONFIG, EngineMetrics.detached())) {
            var blocker = scheduler.submit(new CounterState(1, 1, false).admittedSlowly(slow), gain("g", 1), 0, sink());
            await().atMost(Duration.ofSeconds(5)).until(() -> scheduler.activeStreams() == 1); // the thread is inside admit
            var stream = scheduler.submit(new CounterState(1, 5, true), gain("g", 1), 0, sink());
            for (int i = 0; i < 16; i++) scheduler.deliver(stream, 1L);
            Rejection r = assertThrows(Rejection.class, () -> scheduler.deliver(stream, 1L));
            assertThat(r.kind()).isEqualTo(Rejection.Kind.EXHAUSTED);
            slow.countDown();
            await().atMost(Duration.ofSeconds(5)).until(() -> workload.messages.get() == 16);
            scheduler.cancel(blocker);
            scheduler.cancel(stream);
        }
    }

    @Test
    void faultsInAdmissionOutputsOrDeliveryEndOnlyTheirStream() throws Exception {
        CounterWorkload workload = new CounterWorkload(4);
        try (var scheduler = new Scheduler<>("counter", workload, CONFIG, EngineMetrics.detached())) {
            var ok = sink();
            var badAdmit = sink();
            var badOutputs = sink();
            CollectingSink<CounterOutput, CounterResult> badDelivery = new CollectingSink<>() {
                int events;

                @Override
                public void event(StreamEvent<CounterOutput, CounterResult> event) {
                    if (++events == 3) throw new IllegalStateException("injected: the client connection broke");
                    super.event(event);
                }
            };
            scheduler.submit(new CounterState(2, 8, false), gain("g", 1), 0, ok);
            scheduler.submit(new CounterState(2, 8, false).failingAdmission(), gain("g", 1), 0, badAdmit);
            scheduler.submit(new CounterState(2, 8, false).failingOutputsAt(2), gain("g", 1), 0, badOutputs);
            scheduler.submit(new CounterState(2, 8, false), gain("g", 1), 0, badDelivery);

            assertThat(ok.outputs()).hasSize(8);
            for (var failed : List.of(badAdmit, badOutputs, badDelivery)) {
                await().atMost(Duration.ofSeconds(5)).until(failed.done::isDone);
                assertThat(failed.done).isCompletedExceptionally();
            }
            assertThat(badAdmit.fault.phase()).isEqualTo("admit");
            assertThat(badOutputs.fault.phase()).isEqualTo("outputs");
            assertThat(badDelivery.fault.phase()).isEqualTo("delivery");
            assertThat(badOutputs.fault.message()).doesNotContain("injected").doesNotContain("Exception");
            await().atMost(Duration.ofSeconds(5)).until(() -> scheduler.activeStreams() == 0);
            assertThat(workload.released).hasValue(4);
            assertThat(workload.violations).hasValue(0);
        }
    }

    @Test
    void aFailingForwardPassEndsItsBatchAndTheSchedulerGoesOn() throws Exception {
        CounterWorkload workload = new CounterWorkload(4);
        CountDownLatch hold = new CountDownLatch(1);
        try (var scheduler = new Scheduler<>("counter", workload, CONFIG, EngineMetrics.detached())) {
            // both are admitted in the same turn (the blocker holds the thread until they queue), so they share a batch
            var blocker = scheduler.submit(new CounterState(1, 1, false).admittedSlowly(hold), gain("g", 1), 0, sink());
            await().atMost(Duration.ofSeconds(5)).until(() -> scheduler.activeStreams() == 1);
            var poisoned = sink();
            var neighbour = sink();
            scheduler.submit(new CounterState(1, 5, false).poisoningItsForwardPass(), gain("g", 1), 0, poisoned);
            scheduler.submit(new CounterState(3, 5, false), gain("g", 1), 0, neighbour);
            hold.countDown();
            for (var s : List.of(poisoned, neighbour)) {
                await().atMost(Duration.ofSeconds(5)).until(s.done::isDone);
                assertThat(s.fault.phase()).isEqualTo("step");
            }
            var after = sink();
            scheduler.submit(new CounterState(2, 6, false), gain("g", 1), 0, after);
            assertThat(after.outputs()).hasSize(6);
            await().atMost(Duration.ofSeconds(5)).until(() -> scheduler.activeStreams() == 0);
            assertThat(scheduler.thread().isAlive()).isTrue();
            assertThat(workload.violations).hasValue(0);
            scheduler.cancel(blocker);
        }
    }

    @Test
    void theSchedulerSleepsWhileEveryStreamWaitsOnCredit() throws Exception {
        CounterWorkload workload = new CounterWorkload(2);
        try (var scheduler = new Scheduler<>("counter", workload, CONFIG, EngineMetrics.detached())) {
            List<CollectingSink<CounterOutput, CounterResult>> sinks = new ArrayList<>();
            for (int i = 0; i < 4; i++) { // two hold the slots out of credit, two wait for a slot
                sinks.add(sink());
                scheduler.submit(new CounterState(1, 100, false), gain("g", 1), 1, sinks.get(i));
            }
            sinks.get(0).nextOutput();
            sinks.get(1).nextOutput();
            assertThat(scheduler.waitingStreams()).isEqualTo(2);
            var threads = ManagementFactory.getThreadMXBean();
            long id = scheduler.thread().threadId();
            long cpu0 = threads.getThreadCpuTime(id), wall0 = System.nanoTime();
            Thread.sleep(1000);
            long cpu = threads.getThreadCpuTime(id) - cpu0, wall = System.nanoTime() - wall0;
            assertThat((double) cpu / wall).as("scheduler thread CPU share while nothing can run").isLessThan(0.03);
            assertThat(scheduler.activeStreams()).isEqualTo(2);
        }
    }

    @Test
    void shutdownDuringALongAdmissionStopsTheThreadBeforeReleasingTheWorkload() throws Exception {
        CounterWorkload workload = new CounterWorkload(2);
        var scheduler = new Scheduler<>("counter", workload, CONFIG, EngineMetrics.detached());
        var slow = sink();
        var waiting = sink();
        scheduler.submit(new CounterState(1, 3, false).admittedSlowly(new CountDownLatch(1)), gain("g", 1), 0, slow);
        await().atMost(Duration.ofSeconds(5)).until(() -> scheduler.activeStreams() == 1);
        scheduler.submit(new CounterState(1, 3, false), gain("g", 1), 0, waiting);
        long t0 = System.nanoTime();
        scheduler.close();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("close waits for the admission to be interrupted, not a timeout")
                .isLessThan(Duration.ofSeconds(5));
        assertThat(scheduler.thread().isAlive()).isFalse();
        assertThat(workload.closed).isTrue();
        assertThat(workload.closedWhileSchedulerRan).as("released while the thread still ran").isFalse();
        for (var s : List.of(slow, waiting)) assertThat(s.finished().ending()).isInstanceOf(StreamEvent.Ending.Shutdown.class);
    }

    @Test
    void aStreamThatNeitherProgressesNorHearsFromItsClientEnds() throws Exception {
        CounterWorkload workload = new CounterWorkload(2);
        try (var scheduler = new Scheduler<>("counter", workload, CONFIG.withIdleTimeout(Duration.ofMillis(300)), EngineMetrics.detached())) {
            var idle = sink();
            var stream = scheduler.submit(new CounterState(1, 100, false), gain("g", 1), 1, idle); // never acknowledged
            idle.nextOutput();
            long t0 = System.nanoTime();
            var ending = idle.finished().ending();
            assertThat(ending).isEqualTo(new StreamEvent.Ending.IdleTimeout<CounterResult>(Duration.ofMillis(300)));
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
            await().atMost(Duration.ofSeconds(5)).until(() -> scheduler.activeStreams() == 0);

            var busy = sink(); // acknowledged every 100 ms: not idle though paused most of the time
            var s2 = scheduler.submit(new CounterState(1, 8, false), gain("g", 1), 1, busy);
            for (int k = 1; k <= 8; k++) {
                busy.nextOutput();
                Thread.sleep(100);
                scheduler.acknowledge(s2, k);
            }
            assertThat(((StreamEvent.Ending.Completed<CounterResult>) busy.finished().ending()).result().counter()).isEqualTo(8);
            assertThat(stream.cancelled()).isFalse();
        }
    }
}
