package io.headgate.engine.lm;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The language model's own meters: the intervention's effect measured against shadow rows,
 * {@code headgate_intervention_kl} and {@code headgate_intervention_top1_changed_total}, per model,
 * profile and arm.
 */
public final class LmMeters {

    private static final double[] KL_BUCKETS = {1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.03, 0.1, 0.3, 1, 3, 10};

    /** KL samples of an arm's shadowed streams and their sum. */
    public record KlTotals(long samples, double sum) {
        public double mean() {
            return samples == 0 ? 0 : sum / samples;
        }
    }

    private record Meters(DistributionSummary kl, Counter top1Changed) {
    }

    private final MeterRegistry registry;
    private final String model;
    private final Map<List<String>, Meters> byProfileAndArm = new ConcurrentHashMap<>();

    public LmMeters(MeterRegistry registry, String model) {
        this.registry = registry;
        this.model = model;
    }

    public static LmMeters detached(String model) {
        return new LmMeters(new SimpleMeterRegistry(), model);
    }

    void effect(String profile, String arm, Effect e) {
        Meters m = meters(profile, arm);
        m.kl.record(e.kl());
        if (e.top1Changed()) m.top1Changed.increment();
    }

    /** Totals over every profile a stream of {@code arm} ran under. */
    public KlTotals klTotals(String arm) {
        long samples = 0;
        double sum = 0;
        for (var e : byProfileAndArm.entrySet()) {
            if (!e.getKey().get(1).equals(arm)) continue;
            samples += e.getValue().kl.count();
            sum += e.getValue().kl.totalAmount();
        }
        return new KlTotals(samples, sum);
    }

    private Meters meters(String profile, String arm) {
        return byProfileAndArm.computeIfAbsent(List.of(profile, arm), k -> new Meters(
                DistributionSummary.builder("headgate.intervention.kl")
                        .description("KL(steered || un-steered shadow) of each next-token distribution, nats")
                        .tag("model", model).tag("profile", profile).tag("arm", arm).serviceLevelObjectives(KL_BUCKETS).register(registry),
                Counter.builder("headgate.intervention.top1.changed").description("Tokens whose most likely choice the steering changed")
                        .tag("model", model).tag("profile", profile).tag("arm", arm).register(registry)));
    }
}
