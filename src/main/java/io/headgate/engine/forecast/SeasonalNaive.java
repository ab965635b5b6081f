package io.headgate.engine.forecast;

/**
 * The seasonal-naive baseline every forecast is compared with: the last observed season repeated.
 * Pure functions of the history; NaN marks a missing value.
 */
public final class SeasonalNaive {
    private SeasonalNaive() {
    }

    /**
     * ŷ[n + j] = y[n − m + (j mod m)] for a history y of length n and season m, missing values carried
     * forward (leading ones take the first observed value). A history shorter than one season falls back
     * to naive (m = 1).
     *
     * @throws IllegalArgumentException when the history has no observed value, or season or horizon is not positive
     */
    public static double[] forecast(double[] history, int season, int horizon) {
        if (season <= 0) throw new IllegalArgumentException("season must be positive, got " + season);
        if (horizon <= 0) throw new IllegalArgumentException("horizon must be positive, got " + horizon);
        double[] filled = carriedForward(history);
        int n = filled.length, m = n < season ? 1 : season;
        double[] out = new double[horizon];
        for (int j = 0; j < horizon; j++) out[j] = filled[n - m + (j % m)];
        return out;
    }

    /**
     * The in-sample seasonal-naive MAE, MASE's denominator: mean |y[t] − y[t − m]| over the t ≥ m where
     * both values are observed; NaN when there is no such pair.
     */
    public static double scale(double[] history, int season) {
        if (season <= 0) throw new IllegalArgumentException("season must be positive, got " + season);
        double sum = 0;
        int count = 0;
        for (int t = season; t < history.length; t++) {
            double d = Math.abs(history[t] - history[t - season]);
            if (!Double.isNaN(d)) {
                sum += d;
                count++;
            }
        }
        return count == 0 ? Double.NaN : sum / count;
    }

    private static double[] carriedForward(double[] history) {
        int first = 0;
        while (first < history.length && Double.isNaN(history[first])) first++;
        if (first == history.length) throw new IllegalArgumentException("history has no observed value");
        double[] out = history.clone();
        double last = history[first];
        for (int i = 0; i < out.length; i++) {
            if (Double.isNaN(out[i])) out[i] = last;
            else last = out[i];
        }
        return out;
    }
}
