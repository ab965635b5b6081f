package io.headgate.steer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.headgate.testing.Shipped;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Revisions, optimistic concurrency, durability across restarts, deletion and seeding. */
class ProfileRegistryTest {

    private static final String MODEL = "parens-lm";

    @TempDir
    Path dir;

    @Test
    void revisionsCountFromOne() throws Exception {
        ProfileRegistry registry = new ProfileRegistry(dir);
        assertThat(registry.currentRevision(MODEL, "boost")).isZero();
        assertThat(registry.put(MODEL, "boost", gain(1.1f), 0).revision()).isEqualTo(1);
        assertThat(registry.put(MODEL, "boost", gain(1.2f), 1).revision()).isEqualTo(2);
        Profile third = registry.put(MODEL, "boost", gain(1.3f), 2);
        assertThat(third.revision()).isEqualTo(3);
        assertThat(registry.currentRevision(MODEL, "boost")).isEqualTo(3);
        assertThat(registry.latest(MODEL, "boost")).contains(third);
        assertThat(registry.latest(MODEL, "boost").orElseThrow().spec().gains().getFirst().gain()).isEqualTo(1.3f);
        assertThat(dir.resolve(MODEL).resolve("boost")).isDirectoryContaining("glob:**/3.json");
        // profiles are scoped per model
        assertThat(registry.latest("other-lm", "boost")).isEmpty();
    }

    @Test
    void aStalePutIsRefusedWithTheActualRevision() throws Exception {
        ProfileRegistry registry = new ProfileRegistry(dir);
        registry.put(MODEL, "boost", gain(1.1f), 0);
        registry.put(MODEL, "boost", gain(1.2f), 1);

        assertThatThrownBy(() -> registry.put(MODEL, "boost", gain(9f), 1))
                .isInstanceOfSatisfying(StaleRevisionException.class, e -> {
                    assertThat(e.actual()).isEqualTo(2);
                    assertThat(e.expected()).isEqualTo(1);
                });
        // creating what already exists is stale too
        assertThatThrownBy(() -> registry.put(MODEL, "boost", gain(9f), 0))
                .isInstanceOfSatisfying(StaleRevisionException.class, e -> assertThat(e.actual()).isEqualTo(2));
        // expecting a revision of a profile that does not exist
        assertThatThrownBy(() -> registry.put(MODEL, "absent", gain(9f), 3))
                .isInstanceOfSatisfying(StaleRevisionException.class, e -> assertThat(e.actual()).isZero());

        assertThat(registry.currentRevision(MODEL, "boost")).isEqualTo(2);
        assertThat(registry.latest(MODEL, "boost").orElseThrow().spec()).isEqualTo(gain(1.2f));
        assertThat(registry.latest(MODEL, "absent")).isEmpty();
    }

    @Test
    void aWriterBehindTheStoreChecksTheStoreBeforeRefusing() throws Exception {
        ProfileRegistry first = new ProfileRegistry(dir), second = new ProfileRegistry(dir); // second loaded before first wrote: it lags
        List<Profile> heard = new CopyOnWriteArrayList<>();
        second.subscribe(heard::add);
        first.put(MODEL, "boost", gain(1.1f), 0);
        first.put(MODEL, "boost", gain(1.2f), 1);

        // a client that read revision 2 from the first process writes through the second
        assertThat(second.put(MODEL, "boost", gain(1.3f), 2).revision()).isEqualTo(3);
        assertThat(second.revision(MODEL, "boost", 1).orElseThrow().spec()).isEqualTo(gain(1.1f));
        assertThat(heard).extracting(Profile::revision).as("what it caught up with is news to its listeners, in order").containsExactly(1L, 2L, 3L);
        assertThatThrownBy(() -> first.put(MODEL, "boost", gain(9f), 2))
                .isInstanceOfSatisfying(StaleRevisionException.class, e -> assertThat(e.actual()).isEqualTo(3));
        assertThat(first.latest(MODEL, "boost").orElseThrow().spec()).isEqualTo(gain(1.3f));
    }

    @Test
    void everythingSurvivesARestart() throws Exception {
        Random random = new Random(7);
        float[] vector = new float[16];
        for (int i = 0; i < vector.length; i++) vector[i] = (float) random.nextGaussian() / 3f;
        ProfileSpec spec = new ProfileSpec("a bias with awkward floats",
                List.of(new HeadGain(-1, 2, 0.1f), new HeadGain(3, -1, 1.0000001f)),
                List.of(new HeadBias(1, 4, vector)),
                List.of(new HeadMix(2, 2, 1f / 3f)), new GuidanceSpec(null, 0.5f, 0.002f)); // guidance once went unsaved

        ProfileRegistry first = new ProfileRegistry(dir);
        first.put(MODEL, "rich", gain(1f), 0);
        Profile written = first.put(MODEL, "rich", spec, 1);
        first.put(MODEL, "gone", gain(2f), 0);
        first.delete(MODEL, "gone", 1);
        first.put("other-lm", "x", gain(0f), 0);

        ProfileRegistry second = new ProfileRegistry(dir);
        assertThat(second.latest(MODEL, "rich")).contains(written); // the spec's floats and createdAt exactly
        assertThat(second.revision(MODEL, "rich", 1).orElseThrow().spec()).isEqualTo(gain(1f));
        assertThat(second.latest(MODEL, "gone")).isEmpty();
        assertThat(second.revision(MODEL, "gone", 1)).isPresent();
        assertThat(second.list(null)).extracting(p -> p.model() + "/" + p.name()).containsExactly("other-lm/x", MODEL + "/rich");
        // numbering goes on where the first instance left it
        assertThat(second.put(MODEL, "gone", gain(3f), 0).revision()).isEqualTo(3);
    }

    @Test
    void revisionsAreStoredAsPrettyJson() throws Exception {
        ProfileRegistry registry = new ProfileRegistry(dir);
        registry.put(MODEL, "boost", new ProfileSpec("why", List.of(new HeadGain(3, -1, 1.5f)), null, null), 0);
        registry.delete(MODEL, "boost", 1);

        String text = Files.readString(dir.resolve(MODEL).resolve("boost").resolve("1.json"));
        assertThat(text).contains("\n");
        JsonNode json = new ObjectMapper().readTree(text);
        assertThat(json.get("model").asText()).isEqualTo(MODEL);
        assertThat(json.get("name").asText()).isEqualTo("boost");
        assertThat(json.get("revision").asLong()).isEqualTo(1);
        assertThat(Instant.parse(json.get("createdAt").asText())).isBeforeOrEqualTo(Instant.now());
        assertThat(json.get("deleted").asBoolean()).isFalse();
        assertThat(json.get("description").asText()).isEqualTo("why");
        assertThat(json.get("gains").get(0).get("gain").floatValue()).isEqualTo(1.5f);
        assertThat(json.get("biases")).isEmpty();
        assertThat(json.get("mixes")).isEmpty();

        JsonNode deletion = new ObjectMapper().readTree(dir.resolve(MODEL).resolve("boost").resolve("2.json").toFile());
        assertThat(deletion.get("deleted").asBoolean()).isTrue();
        assertThat(deletion.get("revision").asLong()).isEqualTo(2);
    }

    @Test
    void pinnedRevisionsStayReadableAfterNewerRevisionsAndDeletion() throws Exception {
        ProfileRegistry registry = new ProfileRegistry(dir);
        Profile one = registry.put(MODEL, "boost", gain(1.1f), 0);
        registry.put(MODEL, "boost", gain(1.2f), 1);
        assertThat(registry.revision(MODEL, "boost", 1)).contains(one);

        long deletion = registry.delete(MODEL, "boost", 2);
        assertThat(deletion).isEqualTo(3);
        assertThat(registry.revision(MODEL, "boost", 1)).contains(one);
        assertThat(registry.revision(MODEL, "boost", 2).orElseThrow().spec()).isEqualTo(gain(1.2f));
        assertThat(registry.revision(MODEL, "boost", 3)).as("the deletion itself").isEmpty();
        assertThat(registry.revision(MODEL, "boost", 4)).isEmpty();
        assertThat(registry.revision(MODEL, "boost", 0)).isEmpty();
    }

    @Test
    void deleteThenRecreateContinuesTheNumbering() throws Exception {
        ProfileRegistry registry = new ProfileRegistry(dir);
        registry.put(MODEL, "boost", gain(1.1f), 0);

        assertThatThrownBy(() -> registry.delete(MODEL, "boost", 5))
                .isInstanceOfSatisfying(StaleRevisionException.class, e -> assertThat(e.actual()).isEqualTo(1));
        assertThat(registry.delete(MODEL, "boost", 1)).isEqualTo(2);
        assertThat(registry.latest(MODEL, "boost")).isEmpty();
        assertThat(registry.currentRevision(MODEL, "boost")).isZero();

        assertThatThrownBy(() -> registry.delete(MODEL, "boost", 0))
                .isInstanceOfSatisfying(ProfileException.class, e -> assertThat(e.field()).isEqualTo("name"))
                .hasMessageContaining("not found");
        assertThatThrownBy(() -> registry.delete(MODEL, "never", 0))
                .isInstanceOfSatisfying(ProfileException.class, e -> assertThat(e.field()).isEqualTo("name"));
        // re-creating expects 0, like any creation, but takes the next number
        assertThatThrownBy(() -> registry.put(MODEL, "boost", gain(1.3f), 2)).isInstanceOf(StaleRevisionException.class);
        assertThat(registry.put(MODEL, "boost", gain(1.3f), 0).revision()).isEqualTo(3);
        assertThat(registry.latest(MODEL, "boost").orElseThrow().spec()).isEqualTo(gain(1.3f));
    }

    @Test
    void ofConcurrentPutsExpectingTheSameRevisionExactlyOneWins() throws Exception {
        ProfileRegistry registry = new ProfileRegistry(dir);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            for (long round = 0; round < 5; round++) {
                long expected = round;
                CountDownLatch go = new CountDownLatch(1);
                List<Future<Profile>> results = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    float g = t;
                    results.add(pool.submit(() -> {
                        go.await();
                        return registry.put(MODEL, "race", gain(g), expected);
                    }));
                }
                go.countDown();
                int wins = 0;
                for (Future<Profile> result : results) {
                    try {
                        assertThat(result.get().revision()).isEqualTo(expected + 1);
                        wins++;
                    } catch (java.util.concurrent.ExecutionException e) {
                        assertThat(e.getCause()).isInstanceOfSatisfying(StaleRevisionException.class,
                                s -> assertThat(s.actual()).isEqualTo(expected + 1));
                    }
                }
                assertThat(wins).as("winners expecting revision %d", expected).isEqualTo(1);
            }
        } finally {
            pool.shutdownNow();
        }
        try (var files = Files.list(dir.resolve(MODEL).resolve("race"))) {
            assertThat(files.map(f -> f.getFileName().toString()).sorted())
                    .containsExactly("1.json", "2.json", "3.json", "4.json", "5.json"); // no temp files left
        }
    }

    @Test
    void twoRegistriesOnOneDirectoryCannotBothWriteARevision() throws Exception {
        ProfileRegistry a = new ProfileRegistry(dir);
        a.put(MODEL, "shared", gain(1f), 0);
        ProfileRegistry b = new ProfileRegistry(dir); // another process, in effect
        a.put(MODEL, "shared", gain(2f), 1);

        // b's memory still says revision 1; the file system's link refuses its revision 2
        assertThatThrownBy(() -> b.put(MODEL, "shared", gain(3f), 1))
                .isInstanceOfSatisfying(StaleRevisionException.class, e -> assertThat(e.actual()).isEqualTo(2));
        assertThat(b.latest(MODEL, "shared").orElseThrow().spec()).as("b caught up").isEqualTo(gain(2f));
        assertThat(b.put(MODEL, "shared", gain(3f), 2).revision()).isEqualTo(3);
        assertThat(new ProfileRegistry(dir).latest(MODEL, "shared").orElseThrow().spec()).isEqualTo(gain(3f));
    }

    @Test
    void aHalfWrittenTempFileIsNeverRead() throws Exception {
        new ProfileRegistry(dir).put(MODEL, "boost", gain(1.1f), 0);
        Path profileDir = dir.resolve(MODEL).resolve("boost");
        // crash leftovers: a torn write that never got its link, an old one, and an unrelated file
        Path fresh = Files.writeString(profileDir.resolve(".tmp-123.json"), "{\"model\": \"parens-lm\", \"revis");
        Path old = Files.writeString(profileDir.resolve(".tmp-456.json"), "{\"mod");
        Files.setLastModifiedTime(old, FileTime.from(Instant.now().minus(Duration.ofHours(1))));
        Files.writeString(profileDir.resolve("notes.txt"), "not a revision");
        Path onlyTemp = Files.createDirectories(dir.resolve(MODEL).resolve("torn"));
        Files.writeString(onlyTemp.resolve(".tmp-789.json"), "{");

        ProfileRegistry registry = new ProfileRegistry(dir);
        assertThat(registry.currentRevision(MODEL, "boost")).isEqualTo(1);
        assertThat(registry.latest(MODEL, "torn")).isEmpty();
        assertThat(registry.list(MODEL)).extracting(Profile::name).containsExactly("boost");
        assertThat(old).as("abandoned temp file cleaned").doesNotExist();
        assertThat(fresh).as("possibly a live writer's").exists();
        assertThat(registry.put(MODEL, "boost", gain(1.2f), 1).revision()).isEqualTo(2);
        assertThat(registry.put(MODEL, "torn", gain(1.2f), 0).revision()).isEqualTo(1);
    }

    @Test
    void aDamagedRevisionStopsTheLoadNamingTheFile() throws Exception {
        new ProfileRegistry(dir).put(MODEL, "boost", gain(1.1f), 0);
        Path damaged = dir.resolve(MODEL).resolve("boost").resolve("1.json");
        Files.writeString(damaged, "{\"model\": ");
        assertThatThrownBy(() -> new ProfileRegistry(dir)).isInstanceOf(java.io.IOException.class).hasMessageContaining("1.json");
    }

    @Test
    void listenersHearPutsAndDeletes() throws Exception {
        ProfileRegistry registry = new ProfileRegistry(dir);
        List<Profile> heard = new CopyOnWriteArrayList<>();
        registry.subscribe(p -> {
            throw new IllegalStateException("a broken listener must not undo the write");
        });
        registry.subscribe(heard::add);

        Profile put = registry.put(MODEL, "boost", gain(1.1f), 0);
        registry.delete(MODEL, "boost", 1);
        assertThatThrownBy(() -> registry.put(MODEL, "boost", gain(1.1f), 7)).isInstanceOf(StaleRevisionException.class);

        assertThat(heard).hasSize(2);
        assertThat(heard.get(0)).isEqualTo(put);
        assertThat(heard.get(1).revision()).isEqualTo(2);
        assertThat(heard.get(1).spec()).isNull();
        assertThat(heard.get(1).deleted()).isTrue();
        assertThat(registry.currentRevision(MODEL, "boost")).isZero();
    }

    @Test
    void listIsSortedAndLeavesOutDeletedProfiles() throws Exception {
        ProfileRegistry registry = new ProfileRegistry(dir);
        registry.put(MODEL, "zeta", gain(1f), 0);
        registry.put(MODEL, "alpha", gain(1f), 0);
        registry.put(MODEL, "alpha", gain(2f), 1);
        registry.put(MODEL, "gone", gain(1f), 0);
        registry.delete(MODEL, "gone", 1);
        registry.put("a-model", "mid", gain(1f), 0);

        assertThat(registry.list(MODEL)).extracting(Profile::name, Profile::revision)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("alpha", 2L), org.assertj.core.groups.Tuple.tuple("zeta", 1L));
        assertThat(registry.list("")).extracting(p -> p.model() + "/" + p.name())
                .containsExactly("a-model/mid", MODEL + "/alpha", MODEL + "/zeta");
        assertThat(registry.list(null)).hasSize(3);
        assertThat(registry.list("unknown")).isEmpty();
    }

    @Test
    void putChecksModelAndProfileNames() throws Exception {
        ProfileRegistry registry = new ProfileRegistry(dir);
        assertThatThrownBy(() -> registry.put("../escape", "boost", gain(1f), 0))
                .isInstanceOfSatisfying(ProfileException.class, e -> assertThat(e.field()).isEqualTo("model"));
        assertThatThrownBy(() -> registry.put(MODEL, "identity", gain(1f), 0))
                .isInstanceOfSatisfying(ProfileException.class, e -> assertThat(e.field()).isEqualTo("name"));
        assertThatThrownBy(() -> registry.put(MODEL, "a/b", gain(1f), 0))
                .isInstanceOfSatisfying(ProfileException.class, e -> assertThat(e.field()).isEqualTo("name"));
        try (var files = Files.list(dir)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void seedingInstallsOnlyProfilesNeverWritten() throws Exception {
        Path shipped = Path.of("profiles"); // the profiles the gateway ships
        ProfileRegistry registry = new ProfileRegistry(dir);
        registry.put(MODEL, "pag-l1", gain(0.5f), 0);
        registry.delete(MODEL, "pag-l1", 1);

        assertThat(registry.seedFromDirectory(shipped)).as("pag-l1 was written, then deleted: stays deleted").isEqualTo(Shipped.profiles() - 1);
        Profile boost = registry.latest(MODEL, "boost-l3").orElseThrow();
        assertThat(boost.revision()).isEqualTo(1);
        assertThat(boost.spec().gains()).containsExactly(new HeadGain(3, -1, 1.5f));
        assertThat(registry.latest(MODEL, "pag-l1")).isEmpty();

        registry.put(MODEL, "boost-l3", gain(1.2f), 1);
        assertThat(new ProfileRegistry(dir).seedFromDirectory(shipped)).isZero();
        assertThat(new ProfileRegistry(dir).latest(MODEL, "boost-l3").orElseThrow().spec()).isEqualTo(gain(1.2f));
        assertThat(registry.seedFromDirectory(dir.resolve("no-such-dir"))).isZero();
    }

    @Test
    void seedFilesNeedOnlyTheFieldsTheyUse(@TempDir Path seeds) throws Exception {
        Files.createDirectories(seeds.resolve("tiny-lm"));
        Files.writeString(seeds.resolve("tiny-lm").resolve("ablate.json"), "{\"gains\": [{\"layer\": 0, \"head\": 2, \"gain\": 0}]}");
        Files.writeString(seeds.resolve("tiny-lm").resolve("bias.json"),
                "{\"description\": \"d\", \"biases\": [{\"layer\": 1, \"head\": -1, \"vector\": [0.5, -0.25]}]}");
        Files.writeString(seeds.resolve("tiny-lm").resolve("README.md"), "ignored");

        ProfileRegistry registry = new ProfileRegistry(dir);
        assertThat(registry.seedFromDirectory(seeds)).isEqualTo(2);
        assertThat(registry.latest("tiny-lm", "ablate").orElseThrow().spec())
                .isEqualTo(new ProfileSpec("", List.of(new HeadGain(0, 2, 0f)), null, null));
        assertThat(registry.latest("tiny-lm", "bias").orElseThrow().spec().biases())
                .containsExactly(new HeadBias(1, -1, new float[] {0.5f, -0.25f}));

        Files.writeString(seeds.resolve("tiny-lm").resolve("typo.json"), "{\"gainz\": []}");
        assertThatThrownBy(() -> registry.seedFromDirectory(seeds)).isInstanceOf(java.io.IOException.class).hasMessageContaining("typo.json");
    }

    private static ProfileSpec gain(float g) {
        return new ProfileSpec("gain " + g, List.of(new HeadGain(-1, -1, g)), null, null);
    }
}
