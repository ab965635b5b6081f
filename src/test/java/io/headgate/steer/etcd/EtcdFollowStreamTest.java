package io.headgate.steer.etcd;

import io.headgate.engine.Scheduler;
import io.headgate.engine.Stream;
import io.headgate.engine.StreamEvent;
import io.headgate.engine.lm.CausalLmWorkload;
import io.headgate.engine.lm.Completion;
import io.headgate.engine.lm.LmState;
import io.headgate.engine.lm.LmRequest;
import io.headgate.engine.lm.SamplingParams;
import io.headgate.engine.lm.TokenEvent;
import io.headgate.model.BundleManifest;
import io.headgate.model.lm.CausalLmGraph;
import io.headgate.steer.HeadGain;
import io.headgate.steer.Profile;
import io.headgate.steer.ProfileSpec;
import io.headgate.steer.SteeringResolver;
import io.headgate.steer.SteeringTag;
import io.headgate.testing.LmSink;
import io.headgate.testing.EtcdServer;
import io.headgate.testing.Eventually;
import io.headgate.testing.ParensLm;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two replicas with an engine each, one registry on a real etcd: a stream on B following a profile
 * moves at its next step when A writes a revision; with etcd killed it goes on under what it
 * compiled, and once etcd is back the next revision reaches it with the next number.
 */
class EtcdFollowStreamTest {

    static final String MODEL = "parens-lm";

    @TempDir
    static Path dir;
    static EtcdServer etcd;
    static CausalLmGraph graphA, graphB;

    @BeforeAll
    static void start() throws Exception {
        etcd = EtcdServer.start(dir);
        graphA = ParensLm.graph();
        graphB = ParensLm.graph();
    }

    @AfterAll
    static void stop() throws Exception {
        etcd.close();
        graphA.close();
        graphB.close();
    }

    /** A replica's registry and engine, wired as the gateway wires them: every new revision is offered to the streams following its name. */
    static final class Node implements AutoCloseable {
        final Replica replica;
        final SteeringResolver resolver;
        final CausalLmWorkload workload;
        final Scheduler<LmState, Void, TokenEvent, Completion> scheduler;
        final BundleManifest.Dimensions dims;
        final LinkedBlockingQueue<Profile> offered = new LinkedBlockingQueue<>();

        Node(CausalLmGraph graph) throws Exception {
            replica = new Replica(etcd.endpoint(), "/follow/");
            dims = graph.manifest().dimensions();
            resolver = new SteeringResolver(replica.profiles, 16);
            workload = ParensLm.workload(graph, 4);
            scheduler = ParensLm.scheduler(workload, 4);
            replica.profiles.subscribe(p -> {
                if (!p.deleted()) scheduler.followed(p.name(), resolver.stored(p, dims, true));
                offered.add(p);
            });
            Eventually.until("replica loaded", Duration.ofSeconds(20), replica::up);
        }

        @Override
        public void close() throws Exception {
            scheduler.close();
            replica.close();
        }
    }

    @Test
    void aStreamOnBMovesAtItsNextStepWhenAWritesAndRidesOutAnEtcdCrash() throws Exception {
        try (Node a = new Node(graphA); Node b = new Node(graphB)) {
            a.replica.profiles.put(MODEL, "live", gain(1.0f), 0);
            assertThat(b.offered.poll(20, TimeUnit.SECONDS).revision()).isEqualTo(1);

            LmSink sink = new LmSink();
            long[] prompt = ParensLm.encode("((((((((=");
            Stream<LmState, TokenEvent, Completion> stream = b.scheduler.submit(b.workload.open(new LmRequest(prompt, SamplingParams.greedy(), 24, List.of(), true, LmRequest.Shadow.NONE)),
                    b.resolver.profile(MODEL, b.dims, "live"), 1, sink); // a credit window of 1: one token per acknowledgement
            assertThat(sink.nextToken().steering()).isEqualTo(new SteeringTag("live", 1));

            a.replica.profiles.put(MODEL, "live", gain(0.0f), 1);
            assertThat(b.offered.poll(20, TimeUnit.SECONDS).revision()).as("B's engine was offered A's revision").isEqualTo(2);
            b.scheduler.acknowledge(stream, 1);
            TokenEvent next = sink.nextToken();
            assertThat(next.index()).isEqualTo(1);
            assertThat(next.steering()).as("the very next step runs under it").isEqualTo(new SteeringTag("live", 2));

            etcd.kill();
            Eventually.until("B reports etcd down", Duration.ofSeconds(20), b.replica::down);
            for (int i = 2; i <= 4; i++) {
                b.scheduler.acknowledge(stream, i);
                TokenEvent t = sink.nextToken();
                assertThat(t.index()).isEqualTo(i);
                assertThat(t.steering()).as("the stream goes on under what it compiled").isEqualTo(new SteeringTag("live", 2));
            }

            etcd.start();
            Eventually.until("both reconnect", Duration.ofSeconds(20), () -> a.replica.up() && b.replica.up());
            Profile third = a.replica.profiles.put(MODEL, "live", gain(0.5f), 2);
            assertThat(third.revision()).as("no revision lost or reused across the crash").isEqualTo(3);
            assertThat(b.offered.poll(20, TimeUnit.SECONDS)).isEqualTo(third);
            b.scheduler.acknowledge(stream, 5);
            assertThat(sink.nextToken().steering()).as("follow resumed").isEqualTo(new SteeringTag("live", 3));

            b.scheduler.acknowledge(stream, 1000);
            var events = sink.awaitDone();
            assertThat(events.stream().filter(e -> e instanceof StreamEvent.SteeringApplied).map(e -> (StreamEvent.SteeringApplied<TokenEvent, Completion>) e)
                    .map(e -> e.steering().revision() + "@" + e.fromIndex() + ":" + e.reason()))
                    .containsExactly("2@1:follow", "3@5:follow");
            assertThat(b.offered).as("B heard nothing else").isEmpty();
        }
    }

    private static ProfileSpec gain(float g) {
        return new ProfileSpec("layer 3 at " + g, List.of(new HeadGain(3, -1, g)), null, null);
    }
}
