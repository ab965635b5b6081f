package io.headgate.convert;

import io.headgate.model.BundleManifest;
import io.headgate.testing.Checkpoints;
import io.headgate.testing.SafetensorsFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** A checkpoint converts once; a changed checkpoint converts again into a new bundle. */
class BundleCacheTest {

    @TempDir
    Path dir;

    @Test
    void convertsOnceAndAgainOnlyWhenTheCheckpointChanges() throws Exception {
        Path checkpoint = dir.resolve("ckpt");
        SafetensorsFiles.copyDirectory(Checkpoints.VARIANTS.resolve("llama-tied-fp16"), checkpoint);
        AtomicInteger conversions = new AtomicInteger();
        BundleCache cache = new BundleCache(dir.resolve("cache"), new CheckpointConverter(m -> {
            if (m.startsWith("wrote")) conversions.incrementAndGet();
        }));

        Path first = cache.bundleFor(checkpoint, CheckpointConverter.Options.STEERABLE);
        Path again = cache.bundleFor(checkpoint, CheckpointConverter.Options.STEERABLE);
        assertThat(again).isEqualTo(first);
        assertThat(conversions).hasValue(1);
        assertThat(BundleManifest.read(first).source().sha256()).isEqualTo(CheckpointConverter.hash(checkpoint, CheckpointConverter.Options.STEERABLE));

        Path plain = cache.bundleFor(checkpoint, new CheckpointConverter.Options(false, false, 0));
        assertThat(plain).isNotEqualTo(first);
        assertThat(BundleManifest.read(plain).steerable()).isFalse();

        Path config = checkpoint.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"rms_norm_eps\": 1e-06", "\"rms_norm_eps\": 1e-05"));
        Path changed = cache.bundleFor(checkpoint, CheckpointConverter.Options.STEERABLE);
        assertThat(changed).isNotEqualTo(first);
        assertThat(conversions).hasValue(3);

        // a bundle directory is served as it is
        assertThat(cache.bundleFor(first, CheckpointConverter.Options.STEERABLE)).isEqualTo(first);
    }
}
