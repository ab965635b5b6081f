package io.headgate.steer;

import io.headgate.model.BundleManifest.Dimensions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

/** The registry follows a source-of-truth directory: new and changed files become revisions, removed ones deletions. */
class ProfileDirectorySyncTest {

    @TempDir
    Path registryDir;
    @TempDir
    Path mounted;

    @Test
    void followsNewChangedAndRemovedFiles() throws Exception {
        ProfileRegistry registry = new ProfileRegistry(registryDir);
        registry.put("tiny-lm", "admin-made", new ProfileSpec("by an operator", List.of(new HeadGain(0, 0, 0.5f)), null, null), 0);
        Path flat = mounted.resolve("tiny-lm__boost.json"); // a ConfigMap mounts keys as flat files
        Files.writeString(flat, "{\"gains\": [{\"layer\": 1, \"head\": -1, \"gain\": 1.2}]}");

        SourceDirectory.Synced synced = registry.syncFromDirectory(mounted, SourceDirectory.Synced.NONE, SourceCheck.names()).synced();
        assertThat(synced.names()).containsExactly(List.of("tiny-lm", "boost"));
        assertThat(registry.latest("tiny-lm", "boost").orElseThrow().revision()).isEqualTo(1);

        synced = registry.syncFromDirectory(mounted, synced, SourceCheck.names()).synced();
        assertThat(registry.currentRevision("tiny-lm", "boost")).as("unchanged file: no new revision").isEqualTo(1);

        Files.writeString(flat, "{\"gains\": [{\"layer\": 1, \"head\": -1, \"gain\": 1.4}]}");
        synced = registry.syncFromDirectory(mounted, synced, SourceCheck.names()).synced();
        assertThat(registry.latest("tiny-lm", "boost").orElseThrow().spec().gains()).containsExactly(new HeadGain(1, -1, 1.4f));
        assertThat(registry.revision("tiny-lm", "boost", 1).orElseThrow().spec().gains()).containsExactly(new HeadGain(1, -1, 1.2f));

        Files.delete(flat);
        synced = registry.syncFromDirectory(mounted, synced, SourceCheck.names()).synced();
        assertThat(synced.names()).isEmpty();
        assertThat(registry.latest("tiny-lm", "boost")).as("removed from the directory").isEmpty();
        assertThat(registry.latest("tiny-lm", "admin-made")).as("never in the directory: left alone").isPresent();
    }

    /** As the gateway checks watched profiles: against the model's dimensions, as Put does. */
    private static final SourceCheck<ProfileSpec> TINY_LM = (model, name, spec) -> {
        if (model.equals("loading-lm")) return false;
        try {
            ProfileValidator.validate(spec, new Dimensions(2, 4, 2, 2, 8, 10), 16f);
            return true;
        } catch (ProfileException e) {
            throw new SourceCheck.Rejected(SourceRejection.SPEC, e.field(), e.getMessage());
        }
    };

    @Test
    void aRefusedFileIsReportedWithItsFieldNeverStoredAndTheRestLoads() throws Exception {
        ProfileRegistry registry = new ProfileRegistry(registryDir);
        Files.writeString(mounted.resolve("tiny-lm__good.json"), "{\"gains\": [{\"layer\": 1, \"head\": -1, \"gain\": 1.2}]}");
        Files.writeString(mounted.resolve("tiny-lm__broken.json"), "{\"gains\": [");
        Files.writeString(mounted.resolve("tiny-lm__typed.json"), "{\"gains\": [{\"layer\": 0, \"head\": 0, \"gain\": \"loud\"}]}");
        Files.writeString(mounted.resolve("tiny-lm__deep.json"), "{\"gains\": [{\"layer\": 0, \"head\": 0, \"gain\": 1}, {\"layer\": 5, \"head\": 0, \"gain\": 1}]}");
        Files.writeString(mounted.resolve("tiny-lm__bad name.json"), "{}");
        Files.writeString(mounted.resolve("loading-lm__later.json"), "{}");

        SourceSync sync = registry.syncFromDirectory(mounted, SourceDirectory.Synced.NONE, TINY_LM);
        assertThat(registry.latest("tiny-lm", "good")).as("the rest of the directory loads").isPresent();
        assertThat(sync.rejected()).extracting(r -> r.file().getFileName().toString(), SourceRejection::reason, SourceRejection::field)
                .containsExactlyInAnyOrder(
                        tuple("tiny-lm__bad name.json", SourceRejection.NAME, "name"),
                        tuple("tiny-lm__broken.json", SourceRejection.JSON, "gains"), // the text ends inside it
                        tuple("tiny-lm__deep.json", SourceRejection.SPEC, "gains[1].layer"),
                        tuple("tiny-lm__typed.json", SourceRejection.JSON, "gains[0].gain"));
        for (String name : List.of("broken", "typed", "deep")) assertThat(registry.latest("tiny-lm", name)).as(name).isEmpty();
        assertThat(registry.latest("loading-lm", "later")).as("left for a later sync").isEmpty();
        assertThat(sync.synced().names()).as("what the registry took").containsExactly(List.of("tiny-lm", "good"));

        // a stored profile whose file turns bad keeps its last good revision, not deleted, not changed
        Files.writeString(mounted.resolve("tiny-lm__good.json"), "{\"gains\": [{\"layer\": 7, \"head\": -1, \"gain\": 1.2}]}");
        sync = registry.syncFromDirectory(mounted, sync.synced(), TINY_LM);
        assertThat(sync.rejected()).extracting(SourceRejection::field).contains("gains[0].layer");
        assertThat(registry.currentRevision("tiny-lm", "good")).isEqualTo(1);
        assertThat(registry.latest("tiny-lm", "good").orElseThrow().spec().gains()).containsExactly(new HeadGain(1, -1, 1.2f));

        // fixed: stored as the next revision
        Files.writeString(mounted.resolve("tiny-lm__deep.json"), "{\"gains\": [{\"layer\": 1, \"head\": 0, \"gain\": 1}]}");
        registry.syncFromDirectory(mounted, sync.synced(), TINY_LM);
        assertThat(registry.latest("tiny-lm", "deep").orElseThrow().revision()).isEqualTo(1);
    }

    @Test
    void replicasWriteChangesNotDifferences() throws Exception {
        // two replicas on one registry, each with its own mount of one ConfigMap: b's kubelet lags
        ProfileRegistry registry = new ProfileRegistry(registryDir);
        Path mountA = mounted.resolve("a"), mountB = mounted.resolve("b");
        Files.createDirectories(mountA);
        Files.createDirectories(mountB);
        String v1 = "{\"gains\": [{\"layer\": 1, \"head\": -1, \"gain\": 1.2}]}", v2 = "{\"gains\": [{\"layer\": 1, \"head\": -1, \"gain\": 1.4}]}";
        Files.writeString(mountA.resolve("tiny-lm__boost.json"), v1);
        Files.writeString(mountB.resolve("tiny-lm__boost.json"), v1);
        SourceDirectory.Synced a = registry.syncFromDirectory(mountA, SourceDirectory.Synced.NONE, SourceCheck.names()).synced();
        SourceDirectory.Synced b = registry.syncFromDirectory(mountB, SourceDirectory.Synced.NONE, SourceCheck.names()).synced();
        assertThat(registry.currentRevision("tiny-lm", "boost")).as("the second replica finds it written").isEqualTo(1);

        Files.writeString(mountA.resolve("tiny-lm__boost.json"), v2);
        a = registry.syncFromDirectory(mountA, a, SourceCheck.names()).synced();
        b = registry.syncFromDirectory(mountB, b, SourceCheck.names()).synced();
        assertThat(registry.currentRevision("tiny-lm", "boost")).as("b's old file did not change: it writes nothing back").isEqualTo(2);
        assertThat(registry.latest("tiny-lm", "boost").orElseThrow().spec().gains()).containsExactly(new HeadGain(1, -1, 1.4f));

        Files.writeString(mountB.resolve("tiny-lm__boost.json"), v2);
        b = registry.syncFromDirectory(mountB, b, SourceCheck.names()).synced();
        assertThat(registry.currentRevision("tiny-lm", "boost")).as("b's file caught up: equal, nothing to write").isEqualTo(2);

        ProfileSpec admin = new ProfileSpec("by hand", List.of(new HeadGain(0, 0, 0.5f)), null, null);
        registry.put("tiny-lm", "boost", admin, 2);
        a = registry.syncFromDirectory(mountA, a, SourceCheck.names()).synced();
        assertThat(registry.latest("tiny-lm", "boost").orElseThrow().spec()).as("an admin write stands while the file is unchanged").isEqualTo(admin);
        registry.syncFromDirectory(mountA, SourceDirectory.Synced.NONE, SourceCheck.names()).synced();
        assertThat(registry.latest("tiny-lm", "boost").orElseThrow().spec().gains()).as("a starting replica applies the directory")
                .containsExactly(new HeadGain(1, -1, 1.4f));
        assertThat(registry.currentRevision("tiny-lm", "boost")).isEqualTo(4);
    }
}
