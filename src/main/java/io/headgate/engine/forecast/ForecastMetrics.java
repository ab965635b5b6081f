package io.headgate.engine.forecast;

/**
 * Forecast error measures, as pure functions of actuals and forecasts. Steps whose actual is missing
 * (NaN) are left out of every measure. Quantile forecasts are [steps][levels] with levels increasing
 * (sort crossing quantiles first: {@link QuantileOrder}).
 */
public final class ForecastMetrics {
    private ForecastMetrics() {
    }

    /** Mean absolute error over the observed steps; NaN when none is observed. */
    public static double mae(double[] actual, double[] point) {
        double sum = 0;
        int n = 0;
        for (int t = 0; t < actual.length; t++) {
            if (Double.isNaN(actual[t])) continue;
            sum += Math.abs(actual[t] - point[t]);
            n++;
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    /** MAE divided by {@code scale}, the in-sample seasonal-naive MAE ({@link SeasonalNaive#scale}). */
    public static double mase(double[] actual, double[] point, double scale) {
        return mae(actual, point) / scale;
    }

    /** Symmetric MAPE in percent: 100 · mean 2|y − ŷ| / (|y| + |ŷ|), a step with y = ŷ = 0 counting 0. */
    public static double smape(double[] actual, double[] point) {
        double sum = 0;
        int n = 0;
        for (int t = 0; t < actual.length; t++) {
            if (Double.isNaN(actual[t])) continue;
            double denominator = Math.abs(actual[t]) + Math.abs(point[t]);
            sum += denominator > 0 ? 2 * Math.abs(actual[t] - point[t]) / denominator : 0;
            n++;
        }
        return n == 0 ? Double.NaN : 100 * sum / n;
    }

    /** The pinball (quantile) loss of forecasting {@code q} at {@code level} when {@code y} happens. */
    public static double pinball(double y, double q, double level) {
        double d = y - q;
        return d >= 0 ? level * d : (level - 1) * d;
    }

    /** Weighted quantile loss: mean over the levels of 2 · Σ_t ρ_level(y_t, q_t) / Σ_t |y_t|. */
    public static double weightedQuantileLoss(double[] actual, double[][] quantiles, double[] levels) {
        return new ErrorSums(levels.length).add(actual, median(quantiles, levels), quantiles, levels).weightedQuantileLoss();
    }

    /** Share of observed steps whose actual lies in [lower, upper]. */
    public static double coverage(double[] actual, double[] lower, double[] upper) {
        int covered = 0, count = 0;
        for (int t = 0; t < actual.length; t++) {
            if (Double.isNaN(actual[t])) continue;
            count++;
            if (actual[t] >= lower[t] && actual[t] <= upper[t]) covered++;
        }
        return count == 0 ? Double.NaN : (double) covered / count;
    }

    /** model / baseline; NaN when the baseline is 0 or either is not a number. */
    public static double relative(double model, double baseline) {
        if (!(baseline != 0) || Double.isNaN(model) || Double.isNaN(baseline)) return Double.NaN;
        return model / baseline;
    }

    /** exp(mean log x) over the finite, positive values; NaN when there are none. */
    public static double geometricMean(double... values) {
        double logs = 0;
        int n = 0;
        for (double x : values) {
            if (x > 0 && Double.isFinite(x)) {
                logs += Math.log(x);
                n++;
            }
        }
        return n == 0 ? Double.NaN : Math.exp(logs / n);
    }

    /** The 0.5 level's column, or the middle level's when 0.5 is not among the levels. */
    static double[] median(double[][] quantiles, double[] levels) {
        int m = levels.length / 2;
        for (int i = 0; i < levels.length; i++) if (levels[i] == 0.5) m = i;
        double[] out = new double[quantiles.length];
        for (int t = 0; t < out.length; t++) out[t] = quantiles[t][m];
        return out;
    }
}
