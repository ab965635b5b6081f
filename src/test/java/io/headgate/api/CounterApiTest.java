package io.headgate.api;

import io.grpc.Status;
import io.headgate.api.v1.Generator;
import io.headgate.api.v1.Start;
import io.headgate.server.ModelHost;
import io.headgate.testing.GrpcStream;
import io.headgate.testing.counter.v1.Counter;
import io.headgate.testing.counter.v1.CounterAck;
import io.headgate.testing.counter.v1.CounterAdd;
import io.headgate.testing.counter.v1.CounterEvent;
import io.headgate.testing.counter.v1.CounterRequest;
import io.headgate.testing.counter.v1.CounterStart;
import io.headgate.testing.counter.v1.CounterSteer;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.smallrye.mutiny.operators.multi.processors.UnicastProcessor;
import io.smallrye.mutiny.subscription.Cancellable;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A kind that needs no model — registered by a ModelKind bean and served by its own gRPC service on
 * the shared StreamCall, as every kind is — driven over real gRPC: several rows per stream, client
 * messages in order with Steer and Ack, a fault that ends only its call, cancel, and a model asked
 * for through the wrong kind's RPC.
 */
@QuarkusTest
@TestProfile(CounterApiTest.WithCounter.class)
class CounterApiTest {

    public static class WithCounter implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("headgate.models.counter.path", "src/test/resources/bundles/counter", "headgate.models.counter.slots", "4");
        }
    }

    @GrpcClient("headgate")
    Counter counter;
    @GrpcClient("headgate")
    Generator generator;
    @Inject
    ModelHost host;

    /** One Counter.Run call, driven message by message. */
    final class Call {
        final UnicastProcessor<CounterRequest> requests = UnicastProcessor.create();
        final LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
        final Cancellable subscription = counter.run(requests).subscribe().with(inbox::add, inbox::add, () -> inbox.add("done"));

        Call send(CounterRequest.Builder r) {
            requests.onNext(r.build());
            return this;
        }

        Call start(CounterStart.Builder s) {
            return send(CounterRequest.newBuilder().setStart(s.setModel(s.getModel().isEmpty() ? "counter" : s.getModel())));
        }

        Call add(long delta) {
            return send(CounterRequest.newBuilder().setAdd(CounterAdd.newBuilder().setDelta(delta)));
        }

        Call ack(long consumed) {
            return send(CounterRequest.newBuilder().setAck(CounterAck.newBuilder().setConsumed(consumed)));
        }

        CounterEvent next() throws InterruptedException {
            Object o = inbox.poll(10, TimeUnit.SECONDS);
            if (o instanceof CounterEvent e) return e;
            throw new AssertionError("expected an event, got " + o);
        }

        Status status() throws InterruptedException {
            while (true) {
                Object o = inbox.poll(10, TimeUnit.SECONDS);
                if (o == null) throw new AssertionError("no end within 10 s");
                if (o instanceof Throwable t) return Status.fromThrowable(t);
                if ("done".equals(o)) return Status.OK;
            }
        }
    }

    @BeforeEach
    void loaded() throws InterruptedException {
        assertThat(host.awaitLoaded(120, TimeUnit.SECONDS)).isTrue();
        assertThat(host.entry("counter").state()).as(String.valueOf(host.entry("counter").error())).isEqualTo(ModelHost.State.READY);
    }

    @Test
    void rowsMessagesAndSteeringArriveInOrder() throws Exception {
        Call c = new Call().start(CounterStart.newBuilder().setRows(3).setSteps(4).setCreditWindow(1));
        assertThat(c.next().hasStarted()).isTrue();
        var first = c.next().getStep();
        assertThat(first.getRowValuesList()).containsExactly(0.0, 0.0, 0.0);
        assertThat(first.getCounter()).isEqualTo(1);
        // out of credit: the next step sees the Steer and the Add that arrived before the Ack
        c.send(CounterRequest.newBuilder().setSteer(CounterSteer.newBuilder().setGain(0.5f))).add(10).ack(1);
        CounterEvent applied = c.next();
        assertThat(applied.getAppliedFrom()).isEqualTo(1);
        var second = c.next().getStep();
        assertThat(second.getIndex()).isEqualTo(1);
        assertThat(second.getProfile()).isEqualTo("inline");
        assertThat(second.getRowValuesList()).as("row 0 under the new steering, rows 1 and 2 under their own")
                .containsExactly(0.5 * 11, 2.0 * 11, 3.0 * 11);
        assertThat(second.getCounter()).isEqualTo(12);
        c.ack(1000);
        assertThat(c.next().getStep().getCounter()).isEqualTo(13);
        assertThat(c.next().getStep().getCounter()).isEqualTo(14);
        var done = c.next().getDone();
        assertThat(done.getReason()).isEqualTo("completed");
        assertThat(done.getCounter()).isEqualTo(14);
        assertThat(done.getOutputs()).isEqualTo(4);
        assertThat(c.status().isOk()).isTrue();
    }

    @Test
    void aStreamThatStepsOnMessagesWaitsForThem() throws Exception {
        Call c = new Call().start(CounterStart.newBuilder().setRows(1).setSteps(3).setStepsOnMessage(true));
        assertThat(c.next().hasStarted()).isTrue();
        assertThat(c.inbox.poll(200, TimeUnit.MILLISECONDS)).as("no step before a message").isNull();
        c.add(5);
        assertThat(c.next().getStep().getCounter()).isEqualTo(6);
        c.add(1);
        assertThat(c.next().getStep().getCounter()).isEqualTo(8);
        c.add(1);
        assertThat(c.next().getStep().getCounter()).isEqualTo(10);
        assertThat(c.next().getDone().getCounter()).isEqualTo(10);
    }

    @Test
    void aFaultEndsOnlyItsCallWithAStableMessage() throws Exception {
        Call healthy = new Call().start(CounterStart.newBuilder().setRows(2).setSteps(30));
        Call broken = new Call().start(CounterStart.newBuilder().setRows(2).setSteps(30).setFail("outputs"));
        Status status = broken.status();
        assertThat(status.getCode()).isEqualTo(Status.Code.INTERNAL);
        assertThat(status.getDescription()).startsWith("internal error in this stream's outputs")
                .doesNotContain("injected").doesNotContain("Exception");
        int steps = 0;
        CounterEvent e;
        while (!(e = healthy.next()).hasDone()) if (e.hasStep()) steps++;
        assertThat(steps).isEqualTo(30);
        await().atMost(Duration.ofSeconds(5)).until(() -> host.entry("counter").model().scheduler().activeStreams() == 0);
    }

    @Test
    void cancelFreesTheSlot() throws Exception {
        Call c = new Call().start(CounterStart.newBuilder().setRows(2).setSteps(1_000_000).setCreditWindow(1));
        c.next();
        c.next();
        assertThat(host.entry("counter").model().scheduler().activeStreams()).isEqualTo(1);
        c.subscription.cancel();
        await().atMost(Duration.ofSeconds(5)).until(() -> host.entry("counter").model().scheduler().activeStreams() == 0);
    }

    @Test
    void eachKindsRpcRefusesModelsOfAnotherKind() throws Exception {
        Status status = new Call().start(CounterStart.newBuilder().setModel("parens-lm").setRows(1).setSteps(1)).status();
        assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(status.getDescription()).isEqualTo("start.model: model 'parens-lm' is a causal-lm model, which Counter.Run does not serve");
        Status generate = GrpcStream.start(generator, Start.newBuilder().setModel("counter").setText("((=").build()).status();
        assertThat(generate.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(generate.getDescription()).contains("start.model").contains("test-counter").contains("Generator.Generate");
    }

    @Test
    void aMessageBeforeStartFailsTheCall() throws Exception {
        Status status = new Call().add(1).status();
        assertThat(status.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(status.getDescription()).isEqualTo("add: send Start before Add");
    }
}
