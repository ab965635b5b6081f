package io.headgate.convert;

import io.headgate.model.BundleManifest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Converted bundles kept under a root directory, keyed by a hash of the checkpoint's files and the
 * conversion options: a checkpoint converts once, and again only when it or the converter changes.
 */
public final class BundleCache {

    private final Path root;
    private final CheckpointConverter converter;

    public BundleCache(Path root, CheckpointConverter converter) {
        this.root = root;
        this.converter = converter;
    }

    /** Whether {@code source} is a bundle already (it has a manifest) rather than a checkpoint to convert. */
    public static boolean isBundle(Path source) {
        return Files.isRegularFile(source.resolve(BundleManifest.FILE));
    }

    /** A bundle directory for {@code source}: itself if it already is a bundle, else its cached conversion. */
    public Path bundleFor(Path source, CheckpointConverter.Options options) throws IOException {
        if (isBundle(source)) return source;
        String hash = CheckpointConverter.hash(source, options);
        String name = source.toAbsolutePath().normalize().getFileName().toString();
        Path dir = root.resolve(name + "-" + options.tag() + "-" + hash.substring(0, 16));
        if (Files.isRegularFile(dir.resolve(BundleManifest.FILE))) return dir;
        try {
            converter.convert(source, dir, options, hash);
        } catch (IOException e) {
            // another process converting the same checkpoint may have finished first
            if (!Files.isRegularFile(dir.resolve(BundleManifest.FILE))) throw e;
        }
        return dir;
    }
}
