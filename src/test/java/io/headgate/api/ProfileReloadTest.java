package io.headgate.api;

import io.headgate.api.v1.GenerateEvent;
import io.headgate.steer.ProfileRegistry;
import io.headgate.testing.GrpcStream;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A watched profile directory (a mounted ConfigMap) changes: the gateway picks it up without a
 * restart; a stream following the name moves to the new revision, a pinned one is undisturbed.
 */
@QuarkusTest
@TestProfile(ProfileReloadTest.Watched.class)
class ProfileReloadTest extends GatewayTestBase {

    static final Path MOUNTED = Path.of("target", "test-watched-profiles");

    public static class Watched implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                Files.createDirectories(MOUNTED);
                Files.writeString(MOUNTED.resolve("parens-lm__watched.json"), "{\"gains\": [{\"layer\": 0, \"head\": 0, \"gain\": 1.1}]}");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return Map.of("headgate.profiles.watch", MOUNTED.toString(), "headgate.profiles.watch-interval", "100ms",
                    "headgate.profiles.dir", "target/test-profiles-watch-" + System.nanoTime());
        }
    }

    @Inject
    ProfileRegistry registry;

    @Test
    void aChangedFileBecomesARevisionThatFollowersPickUp() throws Exception {
        long before = registry.currentRevision(MODEL, "watched");
        assertThat(before).isPositive();
        GrpcStream following = GrpcStream.start(generator, start("((((((((((=").setSteering(profile("watched"))
                .setMaxTokens(10).setCreditWindow(1).build());
        GrpcStream pinned = GrpcStream.start(generator, start("((((((((((=").setSteering(profile("watched@" + before))
                .setMaxTokens(10).setCreditWindow(1).build());
        following.nextToken();
        pinned.nextToken();

        Files.writeString(MOUNTED.resolve("parens-lm__watched.json"), "{\"gains\": [{\"layer\": 3, \"head\": -1, \"gain\": 0.0}]}");
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (registry.currentRevision(MODEL, "watched") == before && System.nanoTime() < deadline) Thread.sleep(20);
        long after = registry.currentRevision(MODEL, "watched");
        assertThat(after).as("a new revision from the changed file").isEqualTo(before + 1);

        following.ack(1000);
        pinned.ack(1000);
        List<GenerateEvent> followed = following.rest(), kept = pinned.rest();
        assertThat(followed.stream().filter(GenerateEvent::hasSteeringApplied).map(e -> e.getSteeringApplied().getSteering().getRevision()))
                .containsExactly(after);
        assertThat(GrpcStream.tokens(followed)).allSatisfy(t -> assertThat(t.getSteering().getRevision()).isEqualTo(after));
        assertThat(kept.stream().noneMatch(GenerateEvent::hasSteeringApplied)).isTrue();
        assertThat(GrpcStream.tokens(kept)).isNotEmpty().allSatisfy(t -> assertThat(t.getSteering().getRevision()).isEqualTo(before));
    }
}
