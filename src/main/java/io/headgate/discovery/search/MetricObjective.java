package io.headgate.discovery.search;

import io.headgate.steer.ProfileSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.BooleanSupplier;

/**
 * An objective whose score and guards are named metrics of one evaluation outcome per candidate (a
 * set of samples, a set of forecasts): the kind evaluates the candidates on a split, and reads each
 * metric off an outcome.
 *
 * @param <M> the kind's metrics, named by their lower-case enum names
 * @param <O> one candidate's evaluation outcome
 */
public abstract class MetricObjective<M extends Enum<M>, O> implements Objective {

    /** A guard metric and how much worse than the baseline it may get, in its units. */
    public record MetricGuard<M>(M metric, double tolerance) {
    }

    private final M score;
    private final List<MetricGuard<M>> guards;
    private final int batch;

    protected MetricObjective(M score, List<MetricGuard<M>> guards, int batch) {
        this.score = score;
        this.guards = List.copyOf(guards);
        this.batch = batch;
    }

    public static String label(Enum<?> metric) {
        return metric.name().toLowerCase(Locale.ROOT);
    }

    protected M score() {
        return score;
    }

    protected List<MetricGuard<M>> metricGuards() {
        return guards;
    }

    /** Each candidate's outcome on the split, in order. */
    protected abstract List<O> outcomes(List<ProfileSpec> candidates, Split split, BooleanSupplier cancelled) throws Exception;

    /** One metric of an outcome. */
    protected abstract Measure measure(M metric, O outcome);

    @Override
    public List<Guard> guards() {
        return guards.stream().map(g -> new Guard(label(g.metric()), g.tolerance())).toList();
    }

    @Override
    public int batch() {
        return batch;
    }

    @Override
    public List<Measurement> measure(List<ProfileSpec> candidates, Split split, BooleanSupplier cancelled) throws Exception {
        List<Measurement> out = new ArrayList<>(candidates.size());
        for (O o : outcomes(candidates, split, cancelled)) {
            out.add(new Measurement(measure(score, o), guards.stream().map(g -> measure(g.metric(), o)).toList()));
        }
        return out;
    }
}
