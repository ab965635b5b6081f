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
 * The engine's meters, labelled by model, profile and A/B arm ({@code none} outside experiments) —
 * never a stream id or prompt. The per-output meters are named by the kind (a language model keeps
 * vLLM's names with a {@code headgate_} prefix); the kind-neutral series — active and waiting
 * streams, step duration, batch rows, steering changes, queue time and end-to-end latency — carry a
 * {@code kind} label. Latencies are histograms with fixed buckets, so any percentile can be computed
 * across replicas in Prometheus.
 */
public final class EngineMetrics {

    public static final Duration[] LATENCY_BUCKETS = buckets(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5,
            1, 2, 5, 10, 30, 60, 120);
    private static final double[] ROW_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256};

    private final MeterRegistry registry;

    public EngineMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Meters for tests and tools that run the engine without a server. */
    public static EngineMetrics detached() {
        return new EngineMetrics(new SimpleMeterRegistry());
    }

    /** Where kinds register meters of their own (a language model's intervention KL, a forecaster's error). */
    public MeterRegistry registry() {
        return registry;
    }

    private static Duration[] buckets(double... seconds) {
        Duration[] out = new Duration[seconds.length];
        for (int i = 0; i < seconds.length; i++) out[i] = Duration.ofNanos((long) (seconds[i] * 1e9));
        return out;
    }

    /** A latency timer with the engine's buckets; callers add tags and register it. */
    public static Timer.Builder latency(String name, String description) {
        return Timer.builder(name).description(description).serviceLevelObjectives(LATENCY_BUCKETS)
                .minimumExpectedValue(LATENCY_BUCKETS[0]).maximumExpectedValue(LATENCY_BUCKETS[LATENCY_BUCKETS.length - 1]);
    }

    public ModelMeters forModel(String model, Kind kind, Supplier<Number> active, Supplier<Number> waiting) {
        Gauge.builder("headgate.active.streams", active).description("Streams holding a slot")
                .tag("model", model).tag("kind", kind.name()).register(registry);
        Gauge.builder("headgate.waiting.streams", waiting).description("Streams queued for a slot")
                .tag("model", model).tag("kind", kind.name()).register(registry);
        return new ModelMeters(model, kind);
    }

    /** What an A/B arm's streams have done so far: outputs, first outputs and their total wait. */
    public record ArmTotals(double outputs, long firstOutputs, double firstOutputSeconds) {
        public double meanTimeToFirstOutput() {
            return firstOutputs == 0 ? 0 : firstOutputSeconds / firstOutputs;
        }
    }

    /** One model's meters; per-profile meters are created on first use and cached. */
    public final class ModelMeters {
        private final String model;
        private final Kind kind;
        private final Map<String, Map<String, ProfileMeters>> byArm = new ConcurrentHashMap<>();
        private final Map<String, Timer> stepByPhase = new ConcurrentHashMap<>();
        private final DistributionSummary batchRows;

        private ModelMeters(String model, Kind kind) {
            this.model = model;
            this.kind = kind;
            this.batchRows = DistributionSummary.builder("headgate.batch.rows").description("Rows per step")
                    .tag("model", model).tag("kind", kind.name()).serviceLevelObjectives(ROW_BUCKETS).register(registry);
        }

        private ProfileMeters meters(Steering steering, String arm) {
            return byArm.computeIfAbsent(arm, a -> new ConcurrentHashMap<>())
                    .computeIfAbsent(steering.metricLabel(), profile -> new ProfileMeters(profile, arm));
        }

        void firstOutput(Steering s, String arm, long nanos) {
            ProfileMeters p = meters(s, arm);
            p.firstOutput.record(nanos, TimeUnit.NANOSECONDS);
            p.outputs.increment();
        }

        void interOutput(Steering s, String arm, long nanos) {
            ProfileMeters p = meters(s, arm);
            p.interOutput.record(nanos, TimeUnit.NANOSECONDS);
            p.outputs.increment();
        }

        void finished(Steering s, String arm, long nanos) {
            meters(s, arm).e2e.record(nanos, TimeUnit.NANOSECONDS);
        }

        void queued(Steering s, String arm, long nanos) {
            meters(s, arm).queueTime.record(nanos, TimeUnit.NANOSECONDS);
        }

        void steeringChanged(Steering s, String arm) {
            meters(s, arm).steeringChanges.increment();
        }

        /** Totals over every profile a stream of {@code arm} ran under. */
        public ArmTotals armTotals(String arm) {
            double outputs = 0, seconds = 0;
            long first = 0;
            for (ProfileMeters p : byArm.getOrDefault(arm, Map.of()).values()) {
                outputs += p.outputs.count();
                first += p.firstOutput.count();
                seconds += p.firstOutput.totalTime(TimeUnit.SECONDS);
            }
            return new ArmTotals(outputs, first, seconds);
        }

        void step(String phase, long nanos) {
            stepByPhase.computeIfAbsent(phase, p -> latency("headgate.step.duration", "Duration of one model step")
                    .tag("model", model).tag("kind", kind.name()).tag("phase", p).register(registry)).record(nanos, TimeUnit.NANOSECONDS);
        }

        void rows(int rows) {
            batchRows.record(rows);
        }

        private final class ProfileMeters {
            final Timer firstOutput, interOutput, e2e, queueTime;
            final Counter outputs, steeringChanges;

            ProfileMeters(String profile, String arm) {
                Kind.OutputMeters names = kind.outputs();
                firstOutput = latency(names.firstOutput(), "From request to first " + names.unit())
                        .tag("model", model).tag("profile", profile).tag("arm", arm).register(registry);
                interOutput = latency(names.interOutput(), "Between consecutive " + names.unit() + "s of a stream")
                        .tag("model", model).tag("profile", profile).tag("arm", arm).register(registry);
                outputs = Counter.builder(names.outputs()).description(names.unit() + "s generated")
                        .tag("model", model).tag("profile", profile).tag("arm", arm).register(registry);
                e2e = latency("headgate.e2e.request.latency", "From request to final event")
                        .tag("model", model).tag("kind", kind.name()).tag("profile", profile).tag("arm", arm).register(registry);
                queueTime = latency("headgate.request.queue.time", "From request to slot")
                        .tag("model", model).tag("kind", kind.name()).tag("profile", profile).tag("arm", arm).register(registry);
                steeringChanges = Counter.builder("headgate.steering.changes").description("Steering changes applied to running streams")
                        .tag("model", model).tag("kind", kind.name()).tag("profile", profile).tag("arm", arm).register(registry);
            }
        }
    }
}
