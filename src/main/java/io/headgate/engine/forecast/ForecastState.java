package io.headgate.engine.forecast;

import io.headgate.model.forecast.ContextWindow;
import io.headgate.steer.Steering;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One forecast stream inside the workload: the most recent values of its series (at most the model's
 * context length: memory stays bounded however long it runs), the forecasts not yet fully scored,
 * the running errors per profile, and whether a forecast is due. Made on the caller's thread by
 * {@link ForecastWorkload#open}, then touched only by the scheduler's thread.
 */
public final class ForecastState {

    /** A forecast whose steps are still being scored as actuals arrive. */
    record Outstanding(long origin, List<ForecastOutput.ProfileForecast> profiles, double[] naive) {
    }

    /** A profile's errors and seasonal naive's on exactly the same steps. */
    record Paired(ErrorSums model, ErrorSums naive) {
    }

    final ForecastRequest request;
    final double[] levels;            // the requested levels' values
    final int medianLevel;            // the model level whose values are the point forecast
    final double scale;               // MASE's denominator: the starting context's in-sample seasonal-naive MAE
    private final double[] ring;      // the most recent values, oldest first from head
    private int head, size;
    long seen;                        // values of the series so far: the origin of the next forecast
    long observations;                // values observed after the start
    int sinceForecast;
    boolean due = true;
    int forecasts;
    final Deque<Outstanding> outstanding = new ArrayDeque<>();
    final Map<String, Paired> scores = new LinkedHashMap<>();
    final ErrorSums naive;
    // the last forward pass
    ContextWindow window;
    int firstRow = -1;
    List<Steering> rowSteerings = List.of();

    ForecastState(ForecastRequest request, double[] levels, int medianLevel, int keep) {
        this.request = request;
        this.levels = levels;
        this.medianLevel = medianLevel;
        this.ring = new double[keep];
        this.naive = new ErrorSums(levels.length);
        for (double v : request.context()) append(v);
        this.scale = SeasonalNaive.scale(request.context(), request.season());
    }

    void append(double value) {
        ring[(head + size) % ring.length] = value;
        if (size < ring.length) size++;
        else head = (head + 1) % ring.length;
        seen++;
    }

    /** The most recent values, oldest first. */
    double[] history() {
        double[] out = new double[size];
        for (int i = 0; i < size; i++) out[i] = ring[(head + i) % ring.length];
        return out;
    }

    /** The profiles of the next forecast: the stream's own steering first, then the compared ones not already it. */
    List<Steering> profiles(Steering own) {
        List<Steering> out = new ArrayList<>(1 + request.compared().size());
        out.add(own);
        for (Steering s : request.compared()) if (!s.metricLabel().equals(own.metricLabel())) out.add(s);
        return out;
    }

    Paired paired(String profile) {
        return scores.computeIfAbsent(profile, k -> new Paired(new ErrorSums(levels.length), new ErrorSums(levels.length)));
    }

    List<ForecastOutput.Score> scoreList() {
        List<ForecastOutput.Score> out = new ArrayList<>(scores.size());
        scores.forEach((profile, p) -> out.add(score(profile, p.model(), p.naive())));
        return out;
    }

    ForecastOutput.Score naiveScore() {
        return score("seasonal-naive", naive, naive);
    }

    private ForecastOutput.Score score(String profile, ErrorSums e, ErrorSums baseline) {
        return new ForecastOutput.Score(profile, e.count(), e.mae(), e.mae() / scale, e.smape(), e.weightedQuantileLoss(), e.coverage(),
                ForecastMetrics.relative(e.mae(), baseline.mae()), ForecastMetrics.relative(e.weightedQuantileLoss(), baseline.weightedQuantileLoss()));
    }

    ForecastSummary summary() {
        return new ForecastSummary(observations, forecasts, scoreList(), naiveScore());
    }
}
