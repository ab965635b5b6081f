package io.headgate.effect.forecast;

import io.headgate.engine.forecast.ErrorSums;
import io.headgate.engine.forecast.ForecastMetrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;

/**
 * A forecaster's accuracy on held-out windows against seasonal naive, the way GIFT-Eval reports it:
 * per series, MASE is the mean over its windows of the window's MAE over the in-sample seasonal-naive
 * MAE of its history; sMAPE, weighted quantile loss and 10–90% coverage pool the series' windows;
 * each is compared with seasonal naive's (its point forecast standing in for every quantile) as a
 * ratio; a group's score is the geometric mean of its series' ratios. The point forecast is the median.
 */
public final class HeldOutScores {

    /** One series: the model's and seasonal naive's errors. */
    public record SeriesScore(String name, String frequency, int windows, double mase, double maseNaive, double smape,
                              double smapeNaive, double wql, double wqlNaive, double coverage) {
        public double relativeMase() {
            return ForecastMetrics.relative(mase, maseNaive);
        }

        public double relativeWql() {
            return ForecastMetrics.relative(wql, wqlNaive);
        }
    }

    /** A group of series (one frequency, or all). */
    public record Summary(int series, int windows, double relativeMase, double relativeWql, double mase, double maseNaive,
                          double smape, double smapeNaive, double coverage) {
    }

    private static final class Accumulator {
        final HeldOutSeries series;
        final ErrorSums model, naive;
        final List<Double> maseModel = new ArrayList<>(), maseNaive = new ArrayList<>();

        Accumulator(HeldOutSeries series, int levels) {
            this.series = series;
            this.model = new ErrorSums(levels);
            this.naive = new ErrorSums(levels);
        }
    }

    private final double[] levels;
    private final int median;
    private final Map<String, Accumulator> bySeries = new LinkedHashMap<>();

    public HeldOutScores(List<Double> levels) {
        this.levels = levels.stream().mapToDouble(Double::doubleValue).toArray();
        this.median = levels.indexOf(0.5);
        if (median < 0) throw new IllegalArgumentException("the levels need 0.5 (the point forecast): " + levels);
    }

    /**
     * Scores one window's forecast: {@code quantiles} [steps ≥ horizon][levels], sorted per step.
     */
    public void add(HeldOutWindow w, double[][] quantiles) {
        HeldOutSeries s = w.series();
        int h = s.horizon();
        if (quantiles.length < h) throw new IllegalArgumentException(w + ": forecast has " + quantiles.length + " steps, the window " + h);
        double[][] q = Arrays.copyOf(quantiles, h);
        double[] point = new double[h];
        for (int t = 0; t < h; t++) point[t] = q[t][median];
        double[] actual = w.actual(), naive = w.naive();
        Accumulator acc = bySeries.computeIfAbsent(s.name(), n -> new Accumulator(s, levels.length));
        ErrorSums windowModel = new ErrorSums(levels.length).add(actual, point, q, levels);
        ErrorSums windowNaive = new ErrorSums(levels.length).addPointAt(actual, naive, levels);
        acc.model.add(actual, point, q, levels);
        acc.naive.addPointAt(actual, naive, levels);
        double scale = w.scale();
        if (windowModel.count() > 0 && scale > 0) {
            acc.maseModel.add(windowModel.mae() / scale);
            acc.maseNaive.add(windowNaive.mae() / scale);
        }
    }

    public List<SeriesScore> series() {
        List<SeriesScore> out = new ArrayList<>();
        for (Accumulator a : bySeries.values()) {
            out.add(new SeriesScore(a.series.name(), a.series.frequency(), a.maseModel.size(), mean(a.maseModel), mean(a.maseNaive),
                    a.model.smape(), a.naive.smape(), a.model.weightedQuantileLoss(), a.naive.weightedQuantileLoss(), a.model.coverage()));
        }
        return out;
    }

    public Summary overall() {
        return summary(series());
    }

    /** Per frequency, in alphabetical order. */
    public Map<String, Summary> byFrequency() {
        Map<String, List<SeriesScore>> groups = new TreeMap<>();
        for (SeriesScore s : series()) groups.computeIfAbsent(s.frequency(), f -> new ArrayList<>()).add(s);
        Map<String, Summary> out = new LinkedHashMap<>();
        groups.forEach((f, ss) -> out.put(f, summary(ss)));
        return out;
    }

    private static Summary summary(List<SeriesScore> ss) {
        return new Summary(ss.size(), ss.stream().mapToInt(SeriesScore::windows).sum(),
                ForecastMetrics.geometricMean(ss.stream().mapToDouble(SeriesScore::relativeMase).toArray()),
                ForecastMetrics.geometricMean(ss.stream().mapToDouble(SeriesScore::relativeWql).toArray()),
                mean(ss, SeriesScore::mase), mean(ss, SeriesScore::maseNaive), mean(ss, SeriesScore::smape),
                mean(ss, SeriesScore::smapeNaive), mean(ss, SeriesScore::coverage));
    }

    private static double mean(List<SeriesScore> ss, ToDoubleFunction<SeriesScore> f) {
        return ss.stream().mapToDouble(f).average().orElse(Double.NaN);
    }

    private static double mean(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }
}
