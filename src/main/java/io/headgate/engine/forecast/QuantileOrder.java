package io.headgate.engine.forecast;

import java.util.Arrays;

/**
 * Quantile heads are trained level by level, so a forecast's quantiles can cross (the 0.6 level below
 * the 0.5 one). Sorting each step's values restores a valid quantile function without changing the
 * set of values; it is what scoring and serving use.
 */
public final class QuantileOrder {
    private QuantileOrder() {
    }

    /** Sorts, in place, each step's {@code levels} values of a [steps, levels] row-major block starting at {@code offset}. */
    public static void sort(double[] values, int offset, int steps, int levels) {
        for (int t = 0; t < steps; t++) Arrays.sort(values, offset + t * levels, offset + (t + 1) * levels);
    }

    /** A sorted copy of [steps][levels]. */
    public static double[][] sorted(double[][] quantiles) {
        double[][] out = new double[quantiles.length][];
        for (int t = 0; t < out.length; t++) {
            out[t] = quantiles[t].clone();
            Arrays.sort(out[t]);
        }
        return out;
    }

    /** How many steps have at least one crossing (a level below the one before it). */
    public static int crossings(double[][] quantiles) {
        int n = 0;
        for (double[] step : quantiles) {
            for (int i = 1; i < step.length; i++) {
                if (step[i] < step[i - 1]) {
                    n++;
                    break;
                }
            }
        }
        return n;
    }
}
