package io.headgate.server;

import io.headgate.effect.Evaluator;
import io.headgate.effect.Probe;
import io.headgate.effect.ProbeSets;
import io.headgate.engine.Scheduler;
import io.headgate.effect.SampleEvaluator;
import io.headgate.effect.SampleQuality;
import io.headgate.effect.forecast.HeldOutScores;
import io.headgate.effect.forecast.HeldOutStreams;
import io.headgate.server.diffusion.DiffusionModel;
import io.headgate.server.forecast.ForecastModel;
import io.headgate.server.lm.LmModel;
import io.headgate.steer.Arm;
import io.headgate.steer.Experiment;
import io.headgate.steer.ExperimentRegistry;
import io.headgate.steer.Steering;
import io.headgate.steer.SteeringResolver;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;

/**
 * Canary evaluations: at an interval, each model's built-in checks run under the identity profile,
 * every named profile live streams used since the last run (arm {@code none}) and every arm of the
 * model's experiments (labelled by arm), as low-priority streams of the model's own scheduler. A
 * language model's probe sets give {@code headgate_canary_accuracy{task}}; a diffusion model's
 * conditional samples, judged by its classifier, give
 * {@code headgate_canary_sample_quality{measure=accuracy|confidence|frechet_distance}}; a forecaster's
 * held-out real series give {@code headgate_canary_forecast_error{measure=relative_mase|relative_wql}}.
 */
@ApplicationScoped
public class Canaries {

    private static final Logger LOG = Logger.getLogger(Canaries.class);
    /** Every canary run scores the same probes. */
    public static final long SEED = 20261125;

    @Inject
    HeadgateConfig config;
    @Inject
    ModelHost models;
    @Inject
    SteeringResolver resolver;
    @Inject
    MeterRegistry registry;
    @Inject
    ExperimentRegistry experiments;

    private final Map<List<String>, AtomicReference<Double>> accuracy = new ConcurrentHashMap<>();
    private ScheduledExecutorService timer;

    void start(@Observes StartupEvent event) {
        Duration interval = config.effect().canaryInterval();
        if (interval.isZero() || interval.isNegative()) return;
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "headgate-canaries");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::runAll, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    void stop(@Observes ShutdownEvent event) {
        if (timer != null) timer.shutdownNow();
    }

    void runAll() {
        for (ModelHost.Entry e : models.entries().values()) {
            if (e.state() != ModelHost.State.READY) continue;
            switch (e.model()) {
                case LmModel m when !ProbeSets.available(m.name()).isEmpty() -> eachSteering(m, (s, arm) -> run(m, s, arm));
                case DiffusionModel d when d.classifier() != null && d.realFeatures() != null -> eachSteering(d, (s, arm) -> run(d, s, arm));
                case ForecastModel f when f.heldOut() != null -> eachSteering(f, (s, arm) -> run(f, s, arm));
                default -> {
                }
            }
        }
    }

    /** Identity, every named profile live streams used since the last run (arm none), and every experiment arm's profile (by arm). */
    private void eachSteering(LoadedModel m, BiConsumer<Steering, String> run) {
        Map<String, Steering> steerings = new LinkedHashMap<>();
        steerings.put(SteeringResolver.IDENTITY, resolver.identity(m.name(), m.manifest().dimensions()));
        for (Steering s : m.scheduler().takeRecentSteerings()) {
            if (!s.tag().profile().equals(SteeringResolver.INLINE)) steerings.put(s.metricLabel(), s);
        }
        for (Steering s : steerings.values()) run.accept(s, Scheduler.NO_ARM);
        for (Experiment x : experiments.list(m.name())) {
            for (Arm arm : x.spec().arms()) {
                try {
                    run.accept(resolver.profile(m.name(), m.manifest().dimensions(), arm.profile()), arm.name());
                } catch (RuntimeException ex) {
                    LOG.warnf("canary for arm %s of %s: %s", arm.name(), x.name(), ex.getMessage());
                }
            }
        }
    }

    private void run(DiffusionModel m, Steering s, String arm) {
        try {
            SampleQuality q = quality(m, s, config.effect().canaryPerGroup()).quality();
            sampleGauge(m.name(), s.metricLabel(), arm, "accuracy").set(q.accuracy());
            sampleGauge(m.name(), s.metricLabel(), arm, "confidence").set(q.confidence());
            sampleGauge(m.name(), s.metricLabel(), arm, "frechet_distance").set(q.frechetDistance());
        } catch (Exception ex) {
            LOG.warnf(ex, "canary for %s under %s failed", m.name(), s.tag());
        }
    }

    private void run(ForecastModel m, Steering s, String arm) {
        try {
            HeldOutScores.Summary q = heldOut(m, s, config.effect().canaryPerGroup()).overall();
            forecastGauge(m.name(), s.metricLabel(), arm, "relative_mase").set(q.relativeMase());
            forecastGauge(m.name(), s.metricLabel(), arm, "relative_wql").set(q.relativeWql());
        } catch (Exception ex) {
            LOG.warnf(ex, "canary for %s under %s failed", m.name(), s.tag());
        }
    }

    /**
     * A forecaster's errors under a steering on its held-out real series: the first {@code perFrequency}
     * windows of every frequency (the same windows on every call with the same size).
     */
    public HeldOutStreams.Outcome heldOut(ForecastModel m, Steering steering, int perFrequency) throws Exception {
        if (m.heldOut() == null) throw new IllegalStateException("model " + m.name() + " has no held-out series");
        return new HeldOutStreams(m.scheduler(), m.workload(), m.heldOut()).evaluate(steering, perFrequency, Duration.ofMinutes(10));
    }

    private AtomicReference<Double> forecastGauge(String model, String profile, String arm, String measure) {
        return accuracy.computeIfAbsent(List.of(model, profile, arm, "forecast", measure), k -> {
            AtomicReference<Double> value = new AtomicReference<>(Double.NaN);
            Gauge.builder("headgate.canary.forecast.error", value, v -> v.get())
                    .description("A forecaster's error on its held-out series relative to seasonal naive (geometric mean over series)")
                    .tag("model", model).tag("profile", profile).tag("arm", arm).tag("measure", measure).register(registry);
            return value;
        });
    }

    /**
     * A diffusion model's samples under a steering: {@code perClass} conditional images of every
     * class, from fixed seeds (so every call with the same size judges the same labels and seeds).
     */
    public SampleEvaluator.Outcome quality(DiffusionModel m, Steering steering, int perClass) throws Exception {
        if (m.classifier() == null || m.realFeatures() == null) {
            throw new IllegalStateException("model " + m.name() + " has no classifier or feature statistics to score samples");
        }
        return new SampleEvaluator(m.scheduler(), m.workload(), m.classifier(), m.realFeatures()).evaluate(steering, perClass, SEED, Duration.ofMinutes(10));
    }

    private AtomicReference<Double> sampleGauge(String model, String profile, String arm, String measure) {
        return accuracy.computeIfAbsent(List.of(model, profile, arm, "sample", measure), k -> {
            AtomicReference<Double> value = new AtomicReference<>(Double.NaN);
            Gauge.builder("headgate.canary.sample.quality", value, v -> v.get())
                    .description("Quality of a diffusion model's canary samples: class accuracy, confidence, Frechet distance")
                    .tag("model", model).tag("profile", profile).tag("arm", arm).tag("measure", measure).register(registry);
            return value;
        });
    }

    private void run(LmModel m, Steering s, String arm) {
        try {
            record(m.name(), s.metricLabel(), arm, evaluate(m, s, "", config.effect().canaryPerGroup()));
        } catch (Exception ex) {
            LOG.warnf(ex, "canary for %s under %s failed", m.name(), s.tag());
        }
    }

    /** One evaluation of a model's probe set(s) under a steering, per task and group. */
    public List<Evaluator.GroupResult> evaluate(LmModel m, Steering steering, String set, int perGroup) throws Exception {
        List<Probe> probes = ProbeSets.parensLm(set, perGroup, SEED);
        return Evaluator.groups(probes, evaluator(m).outcomes(steering, probes, Duration.ofMinutes(10)));
    }

    /**
     * Each probe's outcome under a steering; the probes are drawn with {@link #SEED}, so every call
     * with the same set and size scores the same probes in the same order.
     */
    public boolean[] outcomes(LmModel m, Steering steering, String set, int perGroup) throws Exception {
        return evaluator(m).outcomes(steering, ProbeSets.parensLm(set, perGroup, SEED), Duration.ofMinutes(10));
    }

    private static Evaluator evaluator(LmModel m) {
        return new Evaluator(m.scheduler(), m.workload(), text -> m.tokenizer().encode(text));
    }

    private void record(String model, String profile, String arm, List<Evaluator.GroupResult> results) {
        Map<String, int[]> byTask = new LinkedHashMap<>();
        for (Evaluator.GroupResult r : results) {
            int[] c = byTask.computeIfAbsent(r.task(), k -> new int[2]);
            c[0] += r.examples();
            c[1] += r.correct();
        }
        byTask.forEach((task, c) -> gauge(model, profile, arm, task).set((double) c[1] / c[0]));
    }

    private AtomicReference<Double> gauge(String model, String profile, String arm, String task) {
        return accuracy.computeIfAbsent(List.of(model, profile, arm, task), k -> {
            AtomicReference<Double> value = new AtomicReference<>(Double.NaN);
            Gauge.builder("headgate.canary.accuracy", value, v -> v.get()).description("Accuracy on the built-in probe set")
                    .tag("model", model).tag("profile", profile).tag("arm", arm).tag("task", task).register(registry);
            return value;
        });
    }

    /** Runs the canaries now (tests, and an operator who does not want to wait for the interval). */
    public void runNow() {
        runAll();
    }
}
