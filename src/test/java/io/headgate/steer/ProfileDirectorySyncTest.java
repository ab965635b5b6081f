package io.headgate.steer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

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

        Set<List<String>> synced = registry.syncFromDirectory(mounted, Set.of());
        assertThat(synced).containsExactly(List.of("tiny-lm", "boost"));
        assertThat(registry.latest("tiny-lm", "boost").orElseThrow().revision()).isEqualTo(1);

        synced = registry.syncFromDirectory(mounted, synced);
        assertThat(registry.currentRevision("tiny-lm", "boost")).as("unchanged file: no new revision").isEqualTo(1);

        Files.writeString(flat, "{\"gains\": [{\"layer\": 1, \"head\": -1, \"gain\": 1.4}]}");
        synced = registry.syncFromDirectory(mounted, synced);
        assertThat(registry.latest("tiny-lm", "boost").orElseThrow().spec().gains()).containsExactly(new HeadGain(1, -1, 1.4f));
        assertThat(registry.revision("tiny-lm", "boost", 1).orElseThrow().spec().gains()).containsExactly(new HeadGain(1, -1, 1.2f));

        Files.delete(flat);
        synced = registry.syncFromDirectory(mounted, synced);
        assertThat(synced).isEmpty();
        assertThat(registry.latest("tiny-lm", "boost")).as("removed from the directory").isEmpty();
        assertThat(registry.latest("tiny-lm", "admin-made")).as("never in the directory: left alone").isPresent();
    }
}
