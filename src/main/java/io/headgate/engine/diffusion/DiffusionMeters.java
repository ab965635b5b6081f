package io.headgate.engine.diffusion;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The diffusion kind's own meters: finished images, {@code headgate_images_total{model,profile,arm}}. */
public final class DiffusionMeters {

    private final MeterRegistry registry;
    private final String model;
    private final Map<List<String>, Counter> images = new ConcurrentHashMap<>();

    public DiffusionMeters(MeterRegistry registry, String model) {
        this.registry = registry;
        this.model = model;
    }

    public static DiffusionMeters detached(String model) {
        return new DiffusionMeters(new SimpleMeterRegistry(), model);
    }

    void image(String profile, String arm) {
        images.computeIfAbsent(List.of(profile, arm), k -> Counter.builder("headgate.images").description("Images finished")
                .tag("model", model).tag("profile", profile).tag("arm", arm).register(registry)).increment();
    }
}
