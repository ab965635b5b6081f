package io.headgate.engine.forecast;

import java.util.Arrays;

/**
 * Running sums of forecast errors over observed steps — of one window, or pooled over many — from
 * which MAE, sMAPE, weighted quantile loss and interval coverage follow. Missing actuals (NaN) are
 * skipped. Not thread-safe.
 */
public final class ErrorSums {

    private double absError, absActual, smapeTerms;
    private final double[] pinball;
    private int covered, count;

    /** Sums for forecasts with {@code levels} quantile levels. */
    public ErrorSums(int levels) {
        this.pinball = new double[levels];
    }

    /** Adds a point forecast, scored at every level as if each quantile were the point (seasonal naive's quantile loss). */
    public ErrorSums addPointAt(double[] actual, double[] point, double[] levels) {
        double[][] q = new double[point.length][levels.length];
        for (int t = 0; t < point.length; t++) Arrays.fill(q[t], point[t]);
        return add(actual, point, q, levels);
    }

    /**
     * Adds a window: the point forecast (the median, usually) and the quantiles [steps][levels], levels
     * increasing; coverage counts actuals within [first level, last level].
     */
    public ErrorSums add(double[] actual, double[] point, double[][] quantiles, double[] levels) {
        if (levels.length != pinball.length) throw new IllegalArgumentException("expected " + pinball.length + " levels, got " + levels.length);
        for (int t = 0; t < actual.length; t++) {
            double y = actual[t];
            if (Double.isNaN(y)) continue;
            step(y, point[t]);
            double[] q = quantiles[t];
            for (int i = 0; i < levels.length; i++) pinball[i] += ForecastMetrics.pinball(y, q[i], levels[i]);
            if (y >= q[0] && y <= q[q.length - 1]) covered++;
        }
        return this;
    }

    private void step(double y, double p) {
        double e = Math.abs(y - p), denominator = Math.abs(y) + Math.abs(p);
        absError += e;
        absActual += Math.abs(y);
        smapeTerms += denominator > 0 ? 2 * e / denominator : 0;
        count++;
    }

    /** Observed steps added. */
    public int count() {
        return count;
    }

    public double mae() {
        return count == 0 ? Double.NaN : absError / count;
    }

    /** Percent. */
    public double smape() {
        return count == 0 ? Double.NaN : 100 * smapeTerms / count;
    }

    /** Mean over the levels of 2 · Σ pinball / Σ |y|; NaN when Σ |y| is 0. */
    public double weightedQuantileLoss() {
        if (!(absActual > 0)) return Double.NaN;
        double sum = 0;
        for (double p : pinball) sum += 2 * p / absActual;
        return sum / pinball.length;
    }

    /** Mean pinball loss per step and level (in the series' units). */
    public double meanPinball() {
        if (count == 0) return Double.NaN;
        double sum = 0;
        for (double p : pinball) sum += p;
        return sum / (count * pinball.length);
    }

    public double coverage() {
        return count == 0 ? Double.NaN : (double) covered / count;
    }
}
