package io.headgate.discovery.forecast;

import io.headgate.discovery.search.Measure;
import io.headgate.discovery.search.MetricObjective;
import io.headgate.effect.forecast.HeldOutStreams;
import io.headgate.effect.forecast.HeldOutWindow;
import io.headgate.steer.ProfileSpec;
import io.headgate.steer.Steering;

import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * A forecaster's search objective: errors relative to seasonal naive on real windows, the development
 * and held-out windows from different series. Both are geometric means of per-series ratios, not means
 * over windows, so they carry no per-example values (and no paired standard error).
 */
public final class WindowObjective extends MetricObjective<WindowObjective.Metric, HeldOutStreams.Outcome> {

    public enum Metric {
        RELATIVE_MASE, RELATIVE_WQL
    }

    private final HeldOutStreams streams;
    private final Function<ProfileSpec, Steering> steering;
    private final List<HeldOutWindow> dev, heldOut;
    private final int inFlight;
    private final Duration timeout;

    public WindowObjective(HeldOutStreams streams, Function<ProfileSpec, Steering> steering, Metric score, List<MetricGuard<Metric>> guards,
                           List<HeldOutWindow> dev, List<HeldOutWindow> heldOut, int batch, int inFlight, Duration timeout) {
        super(score, guards, batch);
        if (dev.isEmpty() || heldOut.isEmpty()) throw new IllegalArgumentException("no development or held-out windows");
        if (dev.stream().anyMatch(w -> heldOut.stream().anyMatch(h -> h.series().name().equals(w.series().name())))) {
            throw new IllegalArgumentException("a series has windows on both splits");
        }
        this.streams = streams;
        this.steering = steering;
        this.dev = List.copyOf(dev);
        this.heldOut = List.copyOf(heldOut);
        this.inFlight = inFlight;
        this.timeout = timeout;
    }

    /**
     * Splits a forecaster's windows by series: held-out are the first {@code heldOutPerFrequency}
     * windows of every frequency (what Evaluate and Compare score with that size), development the
     * first {@code devPerFrequency} windows of every frequency among the series with no held-out window.
     */
    public static List<List<HeldOutWindow>> split(List<HeldOutWindow> all, int devPerFrequency, int heldOutPerFrequency) {
        List<HeldOutWindow> heldOut = HeldOutStreams.windows(all, heldOutPerFrequency);
        var heldOutSeries = heldOut.stream().map(w -> w.series().name()).collect(java.util.stream.Collectors.toSet());
        List<HeldOutWindow> rest = all.stream().filter(w -> !heldOutSeries.contains(w.series().name())).toList();
        return List.of(HeldOutStreams.windows(rest, devPerFrequency), heldOut);
    }

    @Override
    public String describe() {
        return label(score()) + " on real series";
    }

    @Override
    public int examples(Split split) {
        return (split == Split.DEV ? dev : heldOut).size();
    }

    @Override
    protected List<HeldOutStreams.Outcome> outcomes(List<ProfileSpec> candidates, Split split, BooleanSupplier cancelled) throws Exception {
        return streams.evaluate(candidates.stream().map(steering).toList(), split == Split.DEV ? dev : heldOut, inFlight, timeout, cancelled);
    }

    @Override
    protected Measure measure(Metric metric, HeldOutStreams.Outcome o) {
        return switch (metric) {
            case RELATIVE_MASE -> new Measure(label(metric), true, o.overall().relativeMase(), null);
            case RELATIVE_WQL -> new Measure(label(metric), true, o.overall().relativeWql(), null);
        };
    }
}
