package io.headgate.api;

import io.headgate.api.v1.GenerateEvent;
import io.headgate.steer.ExperimentRegistry;
import io.headgate.steer.ProfileRegistry;
import io.headgate.testing.GrpcStream;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Watched profile and experiment directories (mounted ConfigMaps) change: the gateway picks them up
 * without a restart; a stream following the name moves to the new revision, a pinned one is
 * undisturbed. Files that Put would refuse are refused, counted and never stored, and the rest loads.
 */
@QuarkusTest
@TestProfile(ProfileReloadTest.Watched.class)
class ProfileReloadTest extends GatewayTestBase {

    static final Path MOUNTED = Path.of("target", "test-watched-profiles");
    static final Path MOUNTED_EXPERIMENTS = Path.of("target", "test-watched-experiments");

    public static class Watched implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                fresh(MOUNTED);
                Files.writeString(MOUNTED.resolve("parens-lm__watched.json"), "{\"gains\": [{\"layer\": 0, \"head\": 0, \"gain\": 1.1}]}");
                // refused as Put refuses them: parens-lm has layers 0-3 and head dimension 16
                Files.writeString(MOUNTED.resolve("parens-lm__deep.json"), "{\"gains\": [{\"layer\": 4, \"head\": 0, \"gain\": 1}]}");
                Files.writeString(MOUNTED.resolve("parens-lm__narrow.json"), "{\"biases\": [{\"layer\": 0, \"head\": 0, \"vector\": [1, 2, 3]}]}");
                Files.writeString(MOUNTED.resolve("parens-lm__typo.json"), "{\"gainz\": []}");
                Files.writeString(MOUNTED.resolve("gpt-9__boost.json"), "{\"gains\": []}");
                fresh(MOUNTED_EXPERIMENTS);
                Files.writeString(MOUNTED_EXPERIMENTS.resolve("parens-lm__ab.json"),
                        "{\"arms\": [{\"name\": \"a\", \"profile\": \"identity\", \"weight\": 1}, {\"name\": \"b\", \"profile\": \"watched\", \"weight\": 1}]}");
                Files.writeString(MOUNTED_EXPERIMENTS.resolve("parens-lm__ghost.json"),
                        "{\"arms\": [{\"name\": \"a\", \"profile\": \"identity\", \"weight\": 1}, {\"name\": \"b\", \"profile\": \"nope\", \"weight\": 1}]}");
                Files.writeString(MOUNTED_EXPERIMENTS.resolve("parens-lm__heavy.json"),
                        "{\"arms\": [{\"name\": \"a\", \"profile\": \"identity\", \"weight\": 1}, {\"name\": \"b\", \"profile\": \"watched\", \"weight\": -1}]}");
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return Map.of("headgate.profiles.watch", MOUNTED.toString(), "headgate.profiles.watch-interval", "100ms",
                    "headgate.experiments.watch", MOUNTED_EXPERIMENTS.toString(),
                    "headgate.profiles.dir", "target/test-profiles-watch-" + System.nanoTime(),
                    "headgate.experiments.dir", "target/test-experiments-watch-" + System.nanoTime());
        }

        private static void fresh(Path dir) throws IOException {
            if (Files.exists(dir)) {
                try (Stream<Path> all = Files.walk(dir)) {
                    for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
                }
            }
            Files.createDirectories(dir);
        }
    }

    @Inject
    ProfileRegistry registry;
    @Inject
    ExperimentRegistry experiments;
    @Inject
    MeterRegistry meters;

    @Test
    void aChangedFileBecomesARevisionThatFollowersPickUp() throws Exception {
        await("the watched profile stored").atMost(Duration.ofSeconds(10)).until(() -> registry.currentRevision(MODEL, "watched") > 0);
        long before = registry.currentRevision(MODEL, "watched");
        GrpcStream following = GrpcStream.start(generator, start("((((((((((=").setSteering(profile("watched"))
                .setMaxTokens(10).setCreditWindow(1).build());
        GrpcStream pinned = GrpcStream.start(generator, start("((((((((((=").setSteering(profile("watched@" + before))
                .setMaxTokens(10).setCreditWindow(1).build());
        following.nextToken();
        pinned.nextToken();

        Files.writeString(MOUNTED.resolve("parens-lm__watched.json"), "{\"gains\": [{\"layer\": 3, \"head\": -1, \"gain\": 0.0}]}");
        await("a new revision from the changed file").atMost(Duration.ofSeconds(10))
                .until(() -> registry.currentRevision(MODEL, "watched") != before);
        long after = registry.currentRevision(MODEL, "watched");
        assertThat(after).isEqualTo(before + 1);

        following.ack(1000);
        pinned.ack(1000);
        List<GenerateEvent> followed = following.rest(), kept = pinned.rest();
        assertThat(followed.stream().filter(GenerateEvent::hasSteeringApplied).map(e -> e.getSteeringApplied().getSteering().getRevision()))
                .containsExactly(after);
        assertThat(GrpcStream.tokens(followed)).allSatisfy(t -> assertThat(t.getSteering().getRevision()).isEqualTo(after));
        assertThat(kept.stream().noneMatch(GenerateEvent::hasSteeringApplied)).isTrue();
        assertThat(GrpcStream.tokens(kept)).isNotEmpty().allSatisfy(t -> assertThat(t.getSteering().getRevision()).isEqualTo(before));
    }

    @Test
    void filesPutWouldRefuseAreCountedOnceNeverStoredAndTheRestLoads() {
        await("the valid files stored").atMost(Duration.ofSeconds(10))
                .until(() -> registry.currentRevision(MODEL, "watched") > 0 && experiments.currentRevision(MODEL, "ab") > 0);
        Map<List<String>, Double> expected = Map.of(
                List.of("profile", "spec"), 2.0,       // deep: gains[0].layer; narrow: biases[0].vector
                List.of("profile", "json"), 1.0,       // typo: unknown field gainz
                List.of("profile", "model"), 1.0,      // gpt-9 is not served here
                List.of("experiment", "profile"), 1.0, // ghost: arms[1].profile 'nope' does not exist
                List.of("experiment", "spec"), 1.0);   // heavy: arms[1].weight
        await("each refusal counted").atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(rejections()).isEqualTo(expected));
        await("counted once while the files stay as they are").during(Duration.ofMillis(700)).atMost(Duration.ofSeconds(2))
                .untilAsserted(() -> assertThat(rejections()).isEqualTo(expected));
        for (String name : List.of("deep", "narrow", "typo")) assertThat(registry.currentRevision(MODEL, name)).as(name).isZero();
        assertThat(registry.currentRevision("gpt-9", "boost")).isZero();
        assertThat(experiments.currentRevision(MODEL, "ghost")).isZero();
        assertThat(experiments.currentRevision(MODEL, "heavy")).isZero();
    }

    private Map<List<String>, Double> rejections() {
        Map<List<String>, Double> out = new java.util.HashMap<>();
        for (Counter c : meters.find("headgate.source.rejected").counters()) {
            out.put(List.of(c.getId().getTag("kind"), c.getId().getTag("reason")), c.count());
        }
        return out;
    }
}
