package io.headgate.effect.forecast;

import io.headgate.engine.forecast.SeasonalNaive;

import java.util.Arrays;

/** Rolling origin {@code index} of a held-out series: the history before it and the horizon after it. */
public record HeldOutWindow(HeldOutSeries series, int index) {

    public int origin() {
        return series.origin(index);
    }

    /** Every stored value before the origin (the model reads the most recent part of it). */
    public double[] history() {
        return Arrays.copyOf(series.values(), origin());
    }

    /** The {@code horizon} values after the origin. */
    public double[] actual() {
        return Arrays.copyOfRange(series.values(), origin(), origin() + series.horizon());
    }

    /** The seasonal-naive forecast from the history. */
    public double[] naive() {
        return SeasonalNaive.forecast(history(), series.seasonLength(), series.horizon());
    }

    /** MASE's scale: the history's in-sample seasonal-naive MAE. */
    public double scale() {
        return SeasonalNaive.scale(history(), series.seasonLength());
    }

    @Override
    public String toString() {
        return series.name() + "@" + origin();
    }
}
