package io.headgate.steer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The experiment registry follows a source-of-truth directory like the profile registry does. */
class ExperimentDirectorySyncTest {

    @TempDir
    Path registryDir;
    @TempDir
    Path mounted;

    @Test
    void followsNewChangedAndRemovedFiles() throws Exception {
        ExperimentRegistry registry = new ExperimentRegistry(registryDir);
        Path file = mounted.resolve("tiny-lm__ab.json");
        Files.writeString(file, "{\"description\": \"d\", \"arms\": [{\"name\": \"a\", \"profile\": \"identity\", \"weight\": 1},"
                + " {\"name\": \"b\", \"profile\": \"boost\", \"weight\": 3}]}");
        Set<List<String>> synced = registry.syncFromDirectory(mounted, Set.of(), SourceCheck.names()).held();
        assertThat(registry.latest("tiny-lm", "ab").orElseThrow().spec().arms()).extracting(Arm::name).containsExactly("a", "b");

        synced = registry.syncFromDirectory(mounted, synced, SourceCheck.names()).held();
        assertThat(registry.currentRevision("tiny-lm", "ab")).as("unchanged: no new revision").isEqualTo(1);

        Files.writeString(file, "{\"description\": \"d\", \"arms\": [{\"name\": \"a\", \"profile\": \"identity\", \"weight\": 1},"
                + " {\"name\": \"b\", \"profile\": \"boost\", \"weight\": 1}]}");
        synced = registry.syncFromDirectory(mounted, synced, SourceCheck.names()).held();
        assertThat(registry.latest("tiny-lm", "ab").orElseThrow().spec().arms().get(1).weight()).isEqualTo(1.0);
        assertThat(registry.currentRevision("tiny-lm", "ab")).isEqualTo(2);

        Files.delete(file);
        assertThat(registry.syncFromDirectory(mounted, synced, SourceCheck.names()).held()).isEmpty();
        assertThat(registry.latest("tiny-lm", "ab")).isEmpty();
    }
}
