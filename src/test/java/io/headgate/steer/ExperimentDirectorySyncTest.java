package io.headgate.steer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

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
        SourceDirectory.Synced synced = registry.syncFromDirectory(mounted, SourceDirectory.Synced.NONE, SourceCheck.names()).synced();
        assertThat(registry.latest("tiny-lm", "ab").orElseThrow().spec().arms()).extracting(Arm::name).containsExactly("a", "b");

        synced = registry.syncFromDirectory(mounted, synced, SourceCheck.names()).synced();
        assertThat(registry.currentRevision("tiny-lm", "ab")).as("unchanged: no new revision").isEqualTo(1);

        Files.writeString(file, "{\"description\": \"d\", \"arms\": [{\"name\": \"a\", \"profile\": \"identity\", \"weight\": 1},"
                + " {\"name\": \"b\", \"profile\": \"boost\", \"weight\": 1}]}");
        synced = registry.syncFromDirectory(mounted, synced, SourceCheck.names()).synced();
        assertThat(registry.latest("tiny-lm", "ab").orElseThrow().spec().arms().get(1).weight()).isEqualTo(1.0);
        assertThat(registry.currentRevision("tiny-lm", "ab")).isEqualTo(2);

        Files.delete(file);
        assertThat(registry.syncFromDirectory(mounted, synced, SourceCheck.names()).synced().names()).isEmpty();
        assertThat(registry.latest("tiny-lm", "ab")).isEmpty();
    }
}
