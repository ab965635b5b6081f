package io.headgate.api;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.headgate.api.v1.GetProfileRequest;
import io.headgate.api.v1.PutProfileRequest;
import io.headgate.api.v1.Token;
import io.headgate.steer.HeadGain;
import io.headgate.steer.Profile;
import io.headgate.steer.ProfileRegistry;
import io.headgate.steer.ProfileSpec;
import io.headgate.steer.RevisionCodec;
import io.headgate.steer.etcd.EtcdConnection;
import io.headgate.steer.etcd.EtcdRevisionStore;
import io.headgate.steer.etcd.rpc.KVGrpc;
import io.headgate.steer.etcd.rpc.RangeRequest;
import io.headgate.testing.EtcdServer;
import io.headgate.testing.Eventually;
import io.headgate.testing.GrpcStream;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The gateway with its registry on a real etcd, next to a second replica's registry in this JVM on
 * the same etcd: shipped profiles are seeded into etcd, an admin Put is seen by the other replica
 * with the same revision, a stream on the gateway follows the other replica's writes at its next
 * step; with etcd killed readiness is DOWN naming why, admin writes are UNAVAILABLE and the stream
 * goes on; with etcd back everything resumes.
 */
@QuarkusTest
@TestProfile(EtcdGatewayTest.OnEtcd.class)
class EtcdGatewayTest extends GatewayTestBase {

    static final String PREFIX = "/gateway-test/";
    static final Duration SOON = Duration.ofSeconds(30);

    /** Starts etcd before the gateway and points the gateway at it. */
    public static class Etcd implements QuarkusTestResourceLifecycleManager {
        static EtcdServer server;

        @Override
        public Map<String, String> start() {
            try {
                server = EtcdServer.start(Files.createTempDirectory("headgate-etcd-test"));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return Map.of("headgate.registry.backend", "etcd", "headgate.registry.etcd.endpoints", server.endpoint(),
                    "headgate.registry.etcd.prefix", PREFIX, "headgate.registry.etcd.timeout", "2s");
        }

        @Override
        public void stop() {
            try {
                server.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    public static class OnEtcd implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(Etcd.class));
        }
    }

    @Inject
    ProfileRegistry registry;

    @TestHTTPResource("/q/health/ready")
    URI ready;

    @Test
    void replicasShareTheRegistryAndTheGatewayRidesOutAnEtcdCrash() throws Exception {
        Eventually.until("the registry loaded from etcd", SOON, () -> registry.health().up());
        assertThat(readiness()).contains("\"status\": \"UP\"").contains("\"backend\": \"etcd\"");
        Eventually.until("shipped profiles seeded into etcd", SOON, () -> registry.latest(MODEL, "pag-l1").isPresent());

        EtcdServer etcd = Etcd.server;
        try (EtcdConnection connection = new EtcdConnection(new EtcdConnection.Config(List.of(etcd.endpoint()), Duration.ofSeconds(2)));
             ProfileRegistry other = new ProfileRegistry(new EtcdRevisionStore<>(connection, PREFIX, RevisionCodec.PROFILES))) {
            Eventually.until("the other replica loaded", SOON, () -> other.health().up());
            assertThat(other.latest(MODEL, "pag-l1")).as("seeded once, for everyone").isEqualTo(registry.latest(MODEL, "pag-l1"));

            var put = admin().put(PutProfileRequest.newBuilder().setModel(MODEL).setName("shared").setSpec(spec(1.0f)).build())
                    .await().atMost(Duration.ofSeconds(10));
            assertThat(put.getRevision()).isEqualTo(1);
            Eventually.until("the other replica has it", SOON, () -> other.currentRevision(MODEL, "shared") == 1);

            // a listener subscribed after the gateway's own runs after it: when it hears a revision, the engine was offered it
            LinkedBlockingQueue<Profile> offered = new LinkedBlockingQueue<>();
            registry.subscribe(offered::add);
            GrpcStream following = GrpcStream.start(generator, start("((((((((=").setSteering(profile("shared"))
                    .setMaxTokens(20).setCreditWindow(1).build());
            assertThat(following.nextToken().getSteering().getRevision()).isEqualTo(1);

            other.put(MODEL, "shared", new ProfileSpec("from the other replica", List.of(new HeadGain(3, -1, 0f)), null, null), 1);
            assertThat(offered.poll(20, TimeUnit.SECONDS).revision()).isEqualTo(2);
            following.ack(1);
            Token moved = following.nextToken();
            assertThat(moved.getIndex()).isEqualTo(1);
            assertThat(moved.getSteering().getRevision()).as("the next step runs under the other replica's revision").isEqualTo(2);
            assertThat(admin().get(GetProfileRequest.newBuilder().setModel(MODEL).setName("shared").build()).await().atMost(Duration.ofSeconds(10))
                    .getSpec().getDescription()).isEqualTo("from the other replica");

            etcd.kill();
            Eventually.until("the registry reports etcd down", SOON, () -> !registry.health().up());
            String down = readiness();
            assertThat(down).contains("\"status\": \"DOWN\"").contains("\"registry\"").contains("unreachable since").contains(etcd.endpoint());
            assertThatThrownBy(() -> admin().put(PutProfileRequest.newBuilder().setModel(MODEL).setName("shared").setSpec(spec(2f))
                    .setExpectedRevision(2).build()).await().atMost(Duration.ofSeconds(10)))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                        assertThat(e.getStatus().getDescription()).contains("registry unavailable").contains(etcd.endpoint());
                    });
            following.ack(2);
            assertThat(following.nextToken().getSteering().getRevision()).as("the stream goes on under what it compiled").isEqualTo(2);

            etcd.start();
            Eventually.until("the registry reconnects", SOON, () -> registry.health().up());
            assertThat(readiness()).contains("\"status\": \"UP\"");
            var third = admin().put(PutProfileRequest.newBuilder().setModel(MODEL).setName("shared").setSpec(spec(2f)).setExpectedRevision(2).build())
                    .await().atMost(Duration.ofSeconds(10));
            assertThat(third.getRevision()).isEqualTo(3);
            assertThat(offered.poll(20, TimeUnit.SECONDS).revision()).isEqualTo(3);
            following.ack(3);
            assertThat(following.nextToken().getSteering().getRevision()).as("follow resumed").isEqualTo(3);
            Eventually.until("the other replica has it too", SOON, () -> other.currentRevision(MODEL, "shared") == 3);
            following.cancel();
        }
    }

    @Test
    void theGatewayDoesNotServeEtcdsApi() throws Exception {
        ManagedChannel channel = NettyChannelBuilder.forTarget(ready.getHost() + ":" + ready.getPort()).usePlaintext().build();
        try {
            assertThatThrownBy(() -> KVGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .range(RangeRequest.newBuilder().setKey(com.google.protobuf.ByteString.copyFromUtf8(PREFIX)).build()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
        } finally {
            channel.shutdownNow();
        }
    }

    private String readiness() throws Exception {
        try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) { // as Prometheus scrapes; see GatewayProcess.get
            return http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.ofString()).body();
        }
    }

    private static io.headgate.api.v1.ProfileSpec spec(float gain) {
        return io.headgate.api.v1.ProfileSpec.newBuilder()
                .addGains(io.headgate.api.v1.HeadGain.newBuilder().setLayer(3).setHead(-1).setGain(gain)).build();
    }
}
