package io.headgate.steer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

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

        SourceDirectory.Synced synced = registry.syncFromDirectory(mounted, SourceDirectory.Synced.NONE);
        assertThat(synced.names()).containsExactly(List.of("tiny-lm", "boost"));
        assertThat(registry.latest("tiny-lm", "boost").orElseThrow().revision()).isEqualTo(1);

        synced = registry.syncFromDirectory(mounted, synced);
        assertThat(registry.currentRevision("tiny-lm", "boost")).as("unchanged file: no new revision").isEqualTo(1);

        Files.writeString(flat, "{\"gains\": [{\"layer\": 1, \"head\": -1, \"gain\": 1.4}]}");
        synced = registry.syncFromDirectory(mounted, synced);
        assertThat(registry.latest("tiny-lm", "boost").orElseThrow().spec().gains()).containsExactly(new HeadGain(1, -1, 1.4f));
        assertThat(registry.revision("tiny-lm", "boost", 1).orElseThrow().spec().gains()).containsExactly(new HeadGain(1, -1, 1.2f));

        Files.delete(flat);
        synced = registry.syncFromDirectory(mounted, synced);
        assertThat(synced.names()).isEmpty();
        assertThat(registry.latest("tiny-lm", "boost")).as("removed from the directory").isEmpty();
        assertThat(registry.latest("tiny-lm", "admin-made")).as("never in the directory: left alone").isPresent();
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
        SourceDirectory.Synced a = registry.syncFromDirectory(mountA, SourceDirectory.Synced.NONE);
        SourceDirectory.Synced b = registry.syncFromDirectory(mountB, SourceDirectory.Synced.NONE);
        assertThat(registry.currentRevision("tiny-lm", "boost")).as("the second replica finds it written").isEqualTo(1);

        Files.writeString(mountA.resolve("tiny-lm__boost.json"), v2);
        a = registry.syncFromDirectory(mountA, a);
        b = registry.syncFromDirectory(mountB, b);
        assertThat(registry.currentRevision("tiny-lm", "boost")).as("b's old file did not change: it writes nothing back").isEqualTo(2);
        assertThat(registry.latest("tiny-lm", "boost").orElseThrow().spec().gains()).containsExactly(new HeadGain(1, -1, 1.4f));

        Files.writeString(mountB.resolve("tiny-lm__boost.json"), v2);
        b = registry.syncFromDirectory(mountB, b);
        assertThat(registry.currentRevision("tiny-lm", "boost")).as("b's file caught up: equal, nothing to write").isEqualTo(2);

        ProfileSpec admin = new ProfileSpec("by hand", List.of(new HeadGain(0, 0, 0.5f)), null, null);
        registry.put("tiny-lm", "boost", admin, 2);
        a = registry.syncFromDirectory(mountA, a);
        assertThat(registry.latest("tiny-lm", "boost").orElseThrow().spec()).as("an admin write stands while the file is unchanged").isEqualTo(admin);
        registry.syncFromDirectory(mountA, SourceDirectory.Synced.NONE);
        assertThat(registry.latest("tiny-lm", "boost").orElseThrow().spec().gains()).as("a starting replica applies the directory")
                .containsExactly(new HeadGain(1, -1, 1.4f));
        assertThat(registry.currentRevision("tiny-lm", "boost")).isEqualTo(4);
    }
}
