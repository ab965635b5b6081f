package io.headgate.discovery.diffusion;

import io.headgate.discovery.search.Guard;
import io.headgate.discovery.search.Measure;
import io.headgate.discovery.search.Measurement;
import io.headgate.discovery.search.Objective;
import io.headgate.effect.SampleEvaluator;
import io.headgate.steer.ProfileSpec;
import io.headgate.steer.Steering;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * A diffusion model's search objective: the classifier's judgement of samples generated under each
 * candidate from fixed seeds, the development and held-out sets from different seeds. The score is one
 * of accuracy, confidence (means over images, so paired) or Fréchet distance; the others can guard.
 */
public final class SampleObjective implements Objective {

    public enum Metric {
        ACCURACY(false), CONFIDENCE(false), FRECHET_DISTANCE(true);

        final boolean lowerIsBetter;

        Metric(boolean lowerIsBetter) {
            this.lowerIsBetter = lowerIsBetter;
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public record MetricGuard(Metric metric, double tolerance) {
    }

    private final SampleEvaluator evaluator;
    private final Function<ProfileSpec, Steering> steering;
    private final Metric score;
    private final List<MetricGuard> guards;
    private final SampleEvaluator.Samples dev, heldOut;
    private final int batch, inFlight;
    private final Duration timeout;

    public SampleObjective(SampleEvaluator evaluator, Function<ProfileSpec, Steering> steering, Metric score, List<MetricGuard> guards,
                           SampleEvaluator.Samples dev, SampleEvaluator.Samples heldOut, int batch, int inFlight, Duration timeout) {
        if (dev.seed() == heldOut.seed()) throw new IllegalArgumentException("the development and held-out samples need different seeds");
        if (dev.unconditional() && (score == Metric.ACCURACY || guards.stream().anyMatch(g -> g.metric() == Metric.ACCURACY))) {
            throw new IllegalArgumentException("unconditional samples have no label to be accurate to");
        }
        this.evaluator = evaluator;
        this.steering = steering;
        this.score = score;
        this.guards = List.copyOf(guards);
        this.dev = dev;
        this.heldOut = heldOut;
        this.batch = batch;
        this.inFlight = inFlight;
        this.timeout = timeout;
    }

    @Override
    public String describe() {
        return (dev.unconditional() ? "unconditional" : "conditional") + " sample " + score.label();
    }

    @Override
    public List<Guard> guards() {
        return guards.stream().map(g -> new Guard(g.metric().label(), g.tolerance())).toList();
    }

    @Override
    public int examples(Split split) {
        return evaluator.count(split == Split.DEV ? dev : heldOut);
    }

    @Override
    public int batch() {
        return batch;
    }

    @Override
    public List<Measurement> measure(List<ProfileSpec> candidates, Split split, BooleanSupplier cancelled) throws Exception {
        var outcomes = evaluator.evaluate(candidates.stream().map(steering).toList(), split == Split.DEV ? dev : heldOut, inFlight, timeout, cancelled);
        List<Measurement> out = new ArrayList<>(outcomes.size());
        for (SampleEvaluator.Outcome o : outcomes) {
            out.add(new Measurement(measure(score, o), guards.stream().map(g -> measure(g.metric(), o)).toList()));
        }
        return out;
    }

    private static Measure measure(Metric metric, SampleEvaluator.Outcome o) {
        return switch (metric) {
            case ACCURACY -> {
                double[] perImage = new double[o.correct().length];
                for (int i = 0; i < perImage.length; i++) perImage[i] = o.correct()[i] ? 1 : 0;
                yield new Measure(metric.label(), false, o.quality().accuracy(), perImage);
            }
            case CONFIDENCE -> new Measure(metric.label(), false, o.quality().confidence(), o.confidence());
            case FRECHET_DISTANCE -> new Measure(metric.label(), true, o.quality().frechetDistance(), null);
        };
    }
}
