package io.headgate.discovery.diffusion;

import io.headgate.discovery.search.Measure;
import io.headgate.discovery.search.MetricObjective;
import io.headgate.effect.SampleEvaluator;
import io.headgate.steer.ProfileSpec;
import io.headgate.steer.Steering;

import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * A diffusion model's search objective: the classifier's judgement of samples generated under each
 * candidate from fixed seeds, the development and held-out sets from different seeds. The score is one
 * of accuracy, confidence (means over images, so paired) or Fréchet distance; the others can guard.
 */
public final class SampleObjective extends MetricObjective<SampleObjective.Metric, SampleEvaluator.Outcome> {

    public enum Metric {
        ACCURACY, CONFIDENCE, FRECHET_DISTANCE
    }

    private final SampleEvaluator evaluator;
    private final Function<ProfileSpec, Steering> steering;
    private final SampleEvaluator.Samples dev, heldOut;
    private final int inFlight;
    private final Duration timeout;

    public SampleObjective(SampleEvaluator evaluator, Function<ProfileSpec, Steering> steering, Metric score, List<MetricGuard<Metric>> guards,
                           SampleEvaluator.Samples dev, SampleEvaluator.Samples heldOut, int batch, int inFlight, Duration timeout) {
        super(score, guards, batch);
        if (dev.seed() == heldOut.seed()) throw new IllegalArgumentException("the development and held-out samples need different seeds");
        if (dev.unconditional() && (score == Metric.ACCURACY || guards.stream().anyMatch(g -> g.metric() == Metric.ACCURACY))) {
            throw new IllegalArgumentException("unconditional samples have no label to be accurate to");
        }
        this.evaluator = evaluator;
        this.steering = steering;
        this.dev = dev;
        this.heldOut = heldOut;
        this.inFlight = inFlight;
        this.timeout = timeout;
    }

    @Override
    public String describe() {
        return (dev.unconditional() ? "unconditional" : "conditional") + " sample " + label(score());
    }

    @Override
    public int examples(Split split) {
        return evaluator.count(split == Split.DEV ? dev : heldOut);
    }

    @Override
    protected List<SampleEvaluator.Outcome> outcomes(List<ProfileSpec> candidates, Split split, BooleanSupplier cancelled) throws Exception {
        return evaluator.evaluate(candidates.stream().map(steering).toList(), split == Split.DEV ? dev : heldOut, inFlight, timeout, cancelled);
    }

    @Override
    protected Measure measure(Metric metric, SampleEvaluator.Outcome o) {
        return switch (metric) {
            case ACCURACY -> {
                double[] perImage = new double[o.correct().length];
                for (int i = 0; i < perImage.length; i++) perImage[i] = o.correct()[i] ? 1 : 0;
                yield new Measure(label(metric), false, o.quality().accuracy(), perImage);
            }
            case CONFIDENCE -> new Measure(label(metric), false, o.quality().confidence(), o.confidence());
            case FRECHET_DISTANCE -> new Measure(label(metric), true, o.quality().frechetDistance(), null);
        };
    }
}
