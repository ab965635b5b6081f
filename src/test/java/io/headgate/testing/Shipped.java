package io.headgate.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The profiles the gateway ships, {@code profiles/<model>/<name>.json}. */
public final class Shipped {
    private Shipped() {
    }

    public static final Path PROFILES = Path.of("profiles");

    public static int profiles() {
        try (var files = Files.walk(PROFILES)) {
            return (int) files.filter(f -> f.getFileName().toString().endsWith(".json")).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
