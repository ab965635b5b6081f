package io.headgate.steer.etcd;

import io.headgate.steer.Arm;
import io.headgate.steer.Experiment;
import io.headgate.steer.ExperimentSpec;
import io.headgate.steer.HeadGain;
import io.headgate.steer.Profile;
import io.headgate.steer.ProfileSpec;
import io.headgate.steer.RegistryUnavailableException;
import io.headgate.steer.RevisionCodec;
import io.headgate.steer.StaleRevisionException;
import io.headgate.steer.etcd.rpc.Compare;
import io.headgate.steer.etcd.rpc.PutRequest;
import io.headgate.steer.etcd.rpc.RangeRequest;
import io.headgate.steer.etcd.rpc.RequestOp;
import io.headgate.steer.etcd.rpc.TxnRequest;
import io.headgate.testing.EtcdServer;
import io.headgate.testing.Eventually;
import io.headgate.testing.TcpProxy;
import com.google.protobuf.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import io.headgate.testing.Shipped;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The registry on a real etcd, two or three replicas in one JVM (each with its own connection, as
 * separate pods have): revisions agree everywhere, one compare-and-swap decides races, watches
 * carry changes to every replica and resume after a disconnect without losing a revision.
 */
class EtcdRegistryTest {

    static final String MODEL = "parens-lm";
    static final Duration SOON = Duration.ofSeconds(20);

    @TempDir
    static Path dir;
    static EtcdServer etcd;

    /** Each test keeps its keys under a root of its own, so no test sees another's. */
    String root;
    final List<AutoCloseable> open = new ArrayList<>();

    @BeforeAll
    static void startEtcd() throws Exception {
        etcd = EtcdServer.start(dir);
    }

    @AfterAll
    static void stopEtcd() throws Exception {
        etcd.close();
    }

    @BeforeEach
    void root(TestInfo test) throws Exception {
        etcd.ensureRunning(); // a test that failed while etcd was killed must not fail the ones after it
        root = "/test-" + test.getTestMethod().orElseThrow().getName() + "/";
    }

    @org.junit.jupiter.api.AfterEach
    void closeReplicas() throws Exception {
        for (AutoCloseable c : open.reversed()) c.close();
    }

    Replica replica(String endpoint) throws Exception {
        Replica r = new Replica(endpoint, root);
        open.add(r);
        Eventually.until("replica loaded from etcd", SOON, r::up);
        return r;
    }

    @Test
    void aPutOnOneReplicaReachesTheOtherWithTheSameRevision() throws Exception {
        Replica a = replica(etcd.endpoint()), b = replica(etcd.endpoint());
        List<Profile> written = new ArrayList<>();
        written.add(a.profiles.put(MODEL, "boost", gain(1.1f), 0));
        written.add(a.profiles.put(MODEL, "boost", gain(1.2f), 1));
        written.add(a.profiles.put(MODEL, "boost", gain(1.3f), 2));
        for (Profile p : written) assertThat(b.heard.poll(20, TimeUnit.SECONDS)).as("b hears each revision, in order").isEqualTo(p);
        assertThat(b.profiles.latest(MODEL, "boost")).contains(written.get(2));
        assertThat(b.profiles.revision(MODEL, "boost", 1)).contains(written.get(0));

        Profile fromB = b.profiles.put(MODEL, "boost", gain(1.4f), 3);
        assertThat(fromB.revision()).as("numbering is the registry's, not the replica's").isEqualTo(4);
        for (Profile p : written) assertThat(a.heard.poll(20, TimeUnit.SECONDS)).as("a hears its own writes too").isEqualTo(p);
        assertThat(a.heard.poll(20, TimeUnit.SECONDS)).as("then b's, once").isEqualTo(fromB);

        long deletion = a.profiles.delete(MODEL, "boost", 4);
        assertThat(deletion).isEqualTo(5);
        Profile heard = pollUntil(b, 5);
        assertThat(heard.deleted()).isTrue();
        assertThat(b.profiles.latest(MODEL, "boost")).isEmpty();
        assertThat(b.profiles.put(MODEL, "boost", gain(2f), 0).revision()).as("re-created after a deletion: numbering goes on").isEqualTo(6);

        Experiment ab = a.experiments.put(MODEL, "ab", new ExperimentSpec("d", List.of(new Arm("a", "identity", 1), new Arm("b", "boost", 1))), 0);
        Eventually.until("b has the experiment", SOON, () -> b.experiments.latest(MODEL, "ab").isPresent());
        assertThat(b.experiments.latest(MODEL, "ab")).contains(ab);
        Experiment promoted = b.experiments.promote(MODEL, "ab", "b", 1);
        assertThat(promoted.revision()).isEqualTo(2);
        Eventually.until("a has the promotion", SOON, () -> a.experiments.currentRevision(MODEL, "ab") == 2);
        assertThat(a.experiments.latest(MODEL, "ab")).contains(promoted);
        assertThat(a.profiles.list(MODEL)).isEqualTo(b.profiles.list(MODEL));
    }

    @Test
    void ofTwoConcurrentPutsExpectingOneRevisionExactlyOneWins() throws Exception {
        Replica a = replica(etcd.endpoint()), b = replica(etcd.endpoint());
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 25; round++) {
                long expected = round;
                CountDownLatch go = new CountDownLatch(1);
                Callable<Profile> fromA = () -> {
                    go.await();
                    return a.profiles.put(MODEL, "contested", gain(1 + expected), expected);
                };
                Callable<Profile> fromB = () -> {
                    go.await();
                    return b.profiles.put(MODEL, "contested", gain(-1 - expected), expected);
                };
                Future<Profile> ra = pool.submit(fromA), rb = pool.submit(fromB);
                go.countDown();
                List<Profile> won = new ArrayList<>();
                List<StaleRevisionException> lost = new ArrayList<>();
                for (Future<Profile> f : List.of(ra, rb)) {
                    try {
                        won.add(f.get(20, TimeUnit.SECONDS));
                    } catch (java.util.concurrent.ExecutionException e) {
                        assertThat(e.getCause()).isInstanceOf(StaleRevisionException.class);
                        lost.add((StaleRevisionException) e.getCause());
                    }
                }
                assertThat(won).as("round %d: one winner", round).hasSize(1);
                assertThat(lost).as("round %d: one loser", round).hasSize(1);
                assertThat(won.getFirst().revision()).isEqualTo(expected + 1);
                assertThat(lost.getFirst().expected()).isEqualTo(expected);
                assertThat(lost.getFirst().actual()).as("the loser is told the winner's revision").isEqualTo(expected + 1);
                Profile winner = won.getFirst();
                Eventually.until("both replicas have round " + round, SOON, () -> a.profiles.latest(MODEL, "contested").equals(java.util.Optional.of(winner))
                        && b.profiles.latest(MODEL, "contested").equals(java.util.Optional.of(winner)));
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(a.profiles.currentRevision(MODEL, "contested")).isEqualTo(25);
        // a stale expectation fails on every replica alike
        for (Replica r : List.of(a, b)) {
            assertThatThrownBy(() -> r.profiles.put(MODEL, "contested", gain(0), 24))
                    .isInstanceOfSatisfying(StaleRevisionException.class, e -> assertThat(e.actual()).isEqualTo(25));
        }
    }

    @Test
    void shippedProfilesAreSeededOnceHoweverManyReplicasStart() throws Exception {
        Replica a = replica(etcd.endpoint()), b = replica(etcd.endpoint());
        ExecutorService pool = Executors.newFixedThreadPool(2);
        int installed;
        try {
            Future<Integer> ia = pool.submit(() -> a.profiles.seedFromDirectory(Path.of("profiles")));
            Future<Integer> ib = pool.submit(() -> b.profiles.seedFromDirectory(Path.of("profiles")));
            installed = ia.get(20, TimeUnit.SECONDS) + ib.get(20, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        assertThat(installed).as("every shipped profile, installed once in all").isEqualTo(Shipped.profiles());
        for (String name : List.of("ablate-l3", "pag-l1", "boost-l3")) {
            assertThat(a.etcd.range(RangeRequest.newBuilder().setKey(utf8(root + "profiles/" + MODEL + "/" + name + "/"))
                    .setRangeEnd(EtcdRevisionStore.rangeEnd(utf8(root + "profiles/" + MODEL + "/" + name + "/"))).build(), "test").getKvsCount())
                    .as(name + " has one revision in etcd").isEqualTo(1);
        }
        a.profiles.delete(MODEL, "pag-l1", 1);
        Replica c = replica(etcd.endpoint());
        assertThat(c.profiles.seedFromDirectory(Path.of("profiles"))).as("a later replica installs nothing").isZero();
        assertThat(c.profiles.latest(MODEL, "pag-l1")).as("deleted stays deleted").isEmpty();
        assertThat(c.profiles.currentRevision(MODEL, "boost-l3")).isEqualTo(1);
    }

    @Test
    void aRevisionCommittedByAWriterThatCrashedBeforeSeeingItIsLostNowhere() throws Exception {
        Replica a = replica(etcd.endpoint());
        Replica b = replica(etcd.endpoint());
        a.profiles.put(MODEL, "crash", gain(1f), 0);
        pollUntil(b, 1);
        a.close();
        open.remove(a);

        // what a writer leaves when it dies between etcd's commit and delivering the revision to itself
        Profile orphan = new Profile(MODEL, "crash", 2, gain(2f), Instant.now());
        ByteString key = utf8(root + "profiles/" + MODEL + "/crash/2");
        assertThat(b.etcd.txn(TxnRequest.newBuilder()
                .addCompare(Compare.newBuilder().setKey(key).setTarget(Compare.CompareTarget.CREATE).setCreateRevision(0))
                .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(key)
                        .setValue(ByteString.copyFrom(RevisionCodec.PROFILES.encode(orphan))))).build(), "test").getSucceeded()).isTrue();

        assertThat(pollUntil(b, 2)).as("a running replica hears it").isEqualTo(orphan);
        Replica restarted = replica(etcd.endpoint());
        assertThat(restarted.profiles.latest(MODEL, "crash")).as("the writer, restarted, loads it").contains(orphan);
        assertThat(restarted.profiles.put(MODEL, "crash", gain(3f), 2).revision()).isEqualTo(3);
        assertThat(pollUntil(b, 3).spec()).isEqualTo(gain(3f));
    }

    @Test
    void whileEtcdIsDownReadsGoOnWritesFailAndAfterItComesBackNothingIsLost() throws Exception {
        Replica a = replica(etcd.endpoint()), b = replica(etcd.endpoint());
        Profile first = a.profiles.put(MODEL, "outage", gain(1f), 0);
        pollUntil(b, 1);

        etcd.kill();
        Eventually.until("both replicas report etcd down", SOON, () -> a.down() && b.down());
        assertThat(b.profiles.health().detail()).contains("unreachable since").contains(etcd.endpoint()).contains("serving what was loaded");
        assertThat(b.profiles.latest(MODEL, "outage")).as("reads are served from memory").contains(first);
        assertThatThrownBy(() -> a.profiles.put(MODEL, "outage", gain(2f), 1)).isInstanceOf(RegistryUnavailableException.class)
                .hasMessageContaining(etcd.endpoint());

        etcd.start();
        Eventually.until("both replicas reconnect", SOON, () -> a.up() && b.up());
        assertThat(a.profiles.latest(MODEL, "outage")).contains(first);
        Profile second = a.profiles.put(MODEL, "outage", gain(2f), 1);
        assertThat(second.revision()).as("what etcd acknowledged survived its crash").isEqualTo(2);
        assertThat(pollUntil(b, 2)).isEqualTo(second);
    }

    @Test
    void aReplicaCutOffFromEtcdResumesFromTheLastRevisionItSaw() throws Exception {
        try (TcpProxy link = new TcpProxy(etcd.clientPort())) {
            Replica a = replica(etcd.endpoint()), b = replica(link.endpoint());
            a.profiles.put(MODEL, "cut", gain(1f), 0);
            pollUntil(b, 1);

            link.cut();
            Eventually.until("b reports etcd down", SOON, b::down);
            assertThat(b.profiles.health().detail()).contains("unreachable").contains(link.endpoint());
            List<Profile> missed = new ArrayList<>();
            for (int r = 1; r <= 5; r++) missed.add(a.profiles.put(MODEL, "cut", gain(1 + r), r));
            assertThat(b.profiles.currentRevision(MODEL, "cut")).as("b is cut off").isEqualTo(1);
            assertThat(b.heard).isEmpty();

            link.restore();
            for (Profile p : missed) assertThat(b.heard.poll(20, TimeUnit.SECONDS)).as("caught up, in order, once each").isEqualTo(p);
            Eventually.until("b reports etcd up", SOON, b::up);
            Profile next = b.profiles.put(MODEL, "cut", gain(9f), 6);
            assertThat(next.revision()).isEqualTo(7);
            assertThat(b.heard.poll(20, TimeUnit.SECONDS)).as("nothing heard twice").isEqualTo(next);
        }
    }

    @Test
    void aReplicaThatResumesPastACompactionReloads() throws Exception {
        try (TcpProxy link = new TcpProxy(etcd.clientPort())) {
            Replica a = replica(etcd.endpoint()), b = replica(link.endpoint());
            a.profiles.put(MODEL, "compacted", gain(1f), 0);
            pollUntil(b, 1);

            link.cut();
            Eventually.until("b reports etcd down", SOON, b::down);
            List<Profile> missed = new ArrayList<>();
            for (int r = 1; r <= 3; r++) missed.add(a.profiles.put(MODEL, "compacted", gain(1 + r), r));
            long now = a.etcd.range(RangeRequest.newBuilder().setKey(utf8(root)).build(), "test").getHeader().getRevision();
            a.etcd.compact(now);

            link.restore();
            for (Profile p : missed) assertThat(b.heard.poll(20, TimeUnit.SECONDS)).as("reloaded, new ones heard in order").isEqualTo(p);
            Profile next = a.profiles.put(MODEL, "compacted", gain(9f), 4);
            assertThat(b.heard.poll(20, TimeUnit.SECONDS)).as("and followed again").isEqualTo(next);
        }
    }

    @Test
    void aReplicaGivenEveryMemberMovesOnWhenItsMemberDies(@TempDir Path clusterDir) throws Exception {
        List<EtcdServer> members = EtcdServer.cluster(clusterDir, 3);
        try {
            Replica a = new Replica(String.join(",", members.stream().map(EtcdServer::endpoint).toList()), root);
            open.add(a);
            Replica b = new Replica(members.get(2).endpoint(), root);
            open.add(b);
            Eventually.until("replicas loaded", SOON, () -> a.up() && b.up());
            assertThat(a.etcd.endpoint()).isEqualTo(members.get(0).endpoint());
            Profile first = a.profiles.put(MODEL, "members", gain(1f), 0);
            assertThat(pollUntil(b, 1)).isEqualTo(first);

            members.get(0).kill(); // the member a talks to
            Eventually.until("a moved to another member", SOON, () -> a.up() && !a.etcd.endpoint().equals(members.get(0).endpoint()));
            assertThat(b.up()).as("b's member is alive").isTrue();
            // writes need a leader: if the dead member led, the other two elect one first (about a second)
            Eventually.until("the two members have a leader", SOON, () -> members.get(1).healthy() && members.get(2).healthy());
            Profile second = a.profiles.put(MODEL, "members", gain(2f), 1);
            assertThat(second.revision()).isEqualTo(2);
            assertThat(pollUntil(b, 2)).isEqualTo(second);
            assertThat(b.profiles.put(MODEL, "members", gain(3f), 2).revision()).isEqualTo(3);
            assertThat(pollUntil(a, 3).spec()).isEqualTo(gain(3f));
        } finally {
            for (EtcdServer m : members) m.close();
        }
    }

    @Test
    void badEndpointsAreRefusedNamingTheSetting() {
        assertThatThrownBy(() -> new EtcdConnection(new EtcdConnection.Config(List.of("https://etcd:2379"), Duration.ofSeconds(1))))
                .hasMessageContaining("headgate.registry.etcd.endpoints").hasMessageContaining("TLS");
        assertThatThrownBy(() -> new EtcdConnection(new EtcdConnection.Config(List.of("http://etcd:2379/v3"), Duration.ofSeconds(1))))
                .hasMessageContaining("headgate.registry.etcd.endpoints");
        assertThatThrownBy(() -> new EtcdConnection(new EtcdConnection.Config(List.of(), Duration.ofSeconds(1))))
                .hasMessageContaining("headgate.registry.etcd.endpoints");
        assertThatThrownBy(() -> new EtcdRevisionStore<>(null, "headgate", RevisionCodec.PROFILES))
                .hasMessageContaining("headgate.registry.etcd.prefix");
    }

    /** Waits until {@code r} hears {@code revision}; everything it hears before must be older. */
    private static Profile pollUntil(Replica r, long revision) throws InterruptedException {
        long deadline = System.nanoTime() + SOON.toNanos();
        while (System.nanoTime() < deadline) {
            Profile p = r.heard.poll(100, TimeUnit.MILLISECONDS);
            if (p == null) continue;
            assertThat(p.revision()).as("revisions are heard in order").isLessThanOrEqualTo(revision);
            if (p.revision() == revision) return p;
        }
        throw new AssertionError("revision " + revision + " not heard within " + SOON);
    }

    private static ByteString utf8(String s) {
        return ByteString.copyFromUtf8(s);
    }

    private static ProfileSpec gain(float g) {
        return new ProfileSpec("gain " + g, List.of(new HeadGain(-1, -1, g)), null, null);
    }
}
