package io.headgate.engine;

import io.headgate.steer.Steering;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The engine's meters, named after vLLM's with a {@code headgate_} prefix, labelled by model,
 * profile and A/B arm ({@code none} outside experiments) — never a stream id or prompt. Latencies are histograms with fixed buckets, so any
 * percentile can be computed across replicas in Prometheus.
 */
public final class EngineMetrics {

    private static final Duration[] LATENCY_BUCKETS = buckets(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5,
            1, 2, 5, 10, 30, 60, 120);
    private static final double[] ROW_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256};
    private static final double[] KL_BUCKETS = {1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.03, 0.1, 0.3, 1, 3, 10};

    private final MeterRegistry registry;

    public EngineMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Meters for tests and tools that run the engine without a server. */
    public static EngineMetrics detached() {
        return new EngineMetrics(new SimpleMeterRegistry());
    }

    private static Duration[] buckets(double... seconds) {
        Duration[] out = new Duration[seconds.length];
        for (int i = 0; i < seconds.length; i++) out[i] = Duration.ofNanos((long) (seconds[i] * 1e9));
        return out;
    }

    public ModelMeters forModel(String model, Supplier<Number> active, Supplier<Number> waiting) {
        Gauge.builder("headgate.active.streams", active).description("Streams holding a slot").tag("model", model).register(registry);
        Gauge.builder("headgate.waiting.streams", waiting).description("Streams queued for a slot").tag("model", model).register(registry);
        return new ModelMeters(model);
    }

    /** What an A/B arm's streams have done so far: generated tokens, first tokens and their total wait, KL samples and sum. */
    public record ArmTotals(double tokens, long firstTokens, double ttftSeconds, long klSamples, double klSum) {
        public double meanTimeToFirstToken() {
            return firstTokens == 0 ? 0 : ttftSeconds / firstTokens;
        }

        public double meanKl() {
            return klSamples == 0 ? 0 : klSum / klSamples;
        }
    }

    /** One model's meters; per-profile meters are created on first use and cached. */
    public final class ModelMeters {
        private final String model;
        private final Map<String, Map<String, ProfileMeters>> byArm = new ConcurrentHashMap<>();
        private final Map<String, Timer> stepByPhase = new ConcurrentHashMap<>();
        private final DistributionSummary batchRows;

        private ModelMeters(String model) {
            this.model = model;
            this.batchRows = DistributionSummary.builder("headgate.batch.rows").description("Rows per decode step")
                    .tag("model", model).serviceLevelObjectives(ROW_BUCKETS).register(registry);
        }

        private ProfileMeters meters(Steering steering, String arm) {
            return byArm.computeIfAbsent(arm, a -> new ConcurrentHashMap<>())
                    .computeIfAbsent(steering.metricLabel(), profile -> new ProfileMeters(profile, arm));
        }

        void firstOutput(Steering s, String arm, long nanos) {
            ProfileMeters p = meters(s, arm);
            p.timeToFirstToken.record(nanos, TimeUnit.NANOSECONDS);
            p.generated.increment();
        }

        void interOutput(Steering s, String arm, long nanos) {
            ProfileMeters p = meters(s, arm);
            p.interToken.record(nanos, TimeUnit.NANOSECONDS);
            p.generated.increment();
        }

        void finished(Steering s, String arm, long nanos) {
            meters(s, arm).e2e.record(nanos, TimeUnit.NANOSECONDS);
        }

        void queued(Steering s, String arm, long nanos) {
            meters(s, arm).queueTime.record(nanos, TimeUnit.NANOSECONDS);
        }

        /** Totals over every profile a stream of {@code arm} ran under. */
        public ArmTotals armTotals(String arm) {
            double tokens = 0, ttftSeconds = 0, klSum = 0;
            long firstTokens = 0, klSamples = 0;
            for (ProfileMeters p : byArm.getOrDefault(arm, Map.of()).values()) {
                tokens += p.generated.count();
                firstTokens += p.timeToFirstToken.count();
                ttftSeconds += p.timeToFirstToken.totalTime(TimeUnit.SECONDS);
                klSamples += p.interventionKl.count();
                klSum += p.interventionKl.totalAmount();
            }
            return new ArmTotals(tokens, firstTokens, ttftSeconds, klSamples, klSum);
        }

        void steeringChanged(Steering s, String arm) {
            meters(s, arm).steeringChanges.increment();
        }

        void effect(Steering s, String arm, io.headgate.effect.Effect e) {
            ProfileMeters p = meters(s, arm);
            p.interventionKl.record(e.kl());
            if (e.top1Changed()) p.top1Changed.increment();
        }

        void step(String phase, long nanos, int rows) {
            stepByPhase.computeIfAbsent(phase, p -> latency("headgate.step.duration", "Duration of one model step")
                    .tag("model", model).tag("phase", p).register(registry)).record(nanos, TimeUnit.NANOSECONDS);
            if (phase.equals("decode")) batchRows.record(rows);
        }

        private final class ProfileMeters {
            final Timer timeToFirstToken, interToken, e2e, queueTime;
            final Counter generated, steeringChanges, top1Changed;
            final DistributionSummary interventionKl;

            ProfileMeters(String profile, String arm) {
                timeToFirstToken = timer("headgate.time.to.first.token", "From request to first output", profile, arm);
                interToken = timer("headgate.inter.token.latency", "Between consecutive outputs of a stream", profile, arm);
                e2e = timer("headgate.e2e.request.latency", "From request to final event", profile, arm);
                queueTime = timer("headgate.request.queue.time", "From request to slot", profile, arm);
                generated = Counter.builder("headgate.generated.tokens").description("Outputs generated")
                        .tag("model", model).tag("profile", profile).tag("arm", arm).register(registry);
                steeringChanges = Counter.builder("headgate.steering.changes").description("Steering changes applied to running streams")
                        .tag("model", model).tag("profile", profile).tag("arm", arm).register(registry);
                interventionKl = DistributionSummary.builder("headgate.intervention.kl")
                        .description("KL(steered || un-steered shadow) of each next-token distribution, nats")
                        .tag("model", model).tag("profile", profile).tag("arm", arm).serviceLevelObjectives(KL_BUCKETS).register(registry);
                top1Changed = Counter.builder("headgate.intervention.top1.changed").description("Outputs whose most likely token the steering changed")
                        .tag("model", model).tag("profile", profile).tag("arm", arm).register(registry);
            }

            private Timer timer(String name, String description, String profile, String arm) {
                return latency(name, description).tag("model", model).tag("profile", profile).tag("arm", arm).register(registry);
            }
        }
    }

    private static Timer.Builder latency(String name, String description) {
        return Timer.builder(name).description(description).serviceLevelObjectives(LATENCY_BUCKETS)
                .minimumExpectedValue(LATENCY_BUCKETS[0]).maximumExpectedValue(LATENCY_BUCKETS[LATENCY_BUCKETS.length - 1]);
    }
}
