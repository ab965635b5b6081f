package io.headgate.model.forecast;

import java.util.List;

/**
 * Forecasts of a batch in the series' units: {@code values} is [rows, horizon, levels] row-major, as
 * the graph wrote them (quantiles may cross; sort before scoring).
 */
public record QuantileForecast(int rows, int horizon, List<Double> levels, double[] values, List<ContextWindow> windows) {

    public QuantileForecast {
        if (values.length != rows * horizon * levels.size()) {
            throw new IllegalArgumentException("expected " + rows + "x" + horizon + "x" + levels.size() + " values, got " + values.length);
        }
        levels = List.copyOf(levels);
        windows = List.copyOf(windows);
    }

    public double value(int row, int step, int level) {
        return values[(row * horizon + step) * levels.size() + level];
    }

    /** Row {@code row} as [horizon][levels]. */
    public double[][] row(int row) {
        int q = levels.size();
        double[][] out = new double[horizon][q];
        for (int t = 0; t < horizon; t++) System.arraycopy(values, (row * horizon + t) * q, out[t], 0, q);
        return out;
    }
}
