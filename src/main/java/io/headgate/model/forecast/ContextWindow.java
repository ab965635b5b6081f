package io.headgate.model.forecast;

import io.headgate.model.BundleManifest;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * One series' context as the graph reads it: the most recent {@code contextLength} values (a longer
 * context is cut, a shorter one left-padded), centred on the mean of the observed values and divided
 * by their standard deviation, floored at {@code minScaleRatio}·max|x| (1 when both are 0). Missing
 * values (NaN) and padding are 0 with an observed flag of 0. Statistics are computed in double.
 *
 * @param used    the values the graph reads (the raw tail of the context, NaN for missing)
 * @param dropped how many older values were cut off to fit the model's context
 * @param loc     the mean of the observed values
 * @param scale   the divisor; forecasts map back as loc + scale·q
 */
public record ContextWindow(double[] used, int dropped, double loc, double scale, int observed) {

    /**
     * @throws IllegalArgumentException naming {@code context} when it is empty, holds an infinite
     *                                  value, or has no observed value among the values the model reads
     */
    public static ContextWindow of(double[] context, BundleManifest.Forecast spec) {
        if (context == null || context.length == 0) throw new IllegalArgumentException("context is empty");
        for (int i = 0; i < context.length; i++) {
            if (Double.isInfinite(context[i])) throw new IllegalArgumentException("context[" + i + "] is " + context[i] + "; values must be finite or NaN (missing)");
        }
        int dropped = Math.max(0, context.length - spec.contextLength());
        double[] used = dropped == 0 ? context.clone() : Arrays.copyOfRange(context, dropped, context.length);
        int count = 0;
        double sum = 0, maxAbs = 0;
        for (double x : used) {
            if (Double.isNaN(x)) continue;
            count++;
            sum += x;
            maxAbs = Math.max(maxAbs, Math.abs(x));
        }
        if (count == 0) {
            throw new IllegalArgumentException("context has no observed value" + (dropped > 0 ? " among its last " + used.length + " values" : "")
                    + "; at least one must be a number (NaN marks a missing value)");
        }
        double loc = sum / count, squares = 0;
        for (double x : used) {
            if (!Double.isNaN(x)) squares += (x - loc) * (x - loc);
        }
        double scale = Math.max(Math.sqrt(squares / count), spec.minScaleRatio() * maxAbs);
        return new ContextWindow(used, dropped, loc, scale == 0 ? 1 : scale, count);
    }

    public boolean truncated() {
        return dropped > 0;
    }

    /** Writes this window into row {@code row} of the [B, contextLength] values and observed buffers. */
    void write(FloatBuffer values, FloatBuffer observed, int row, int contextLength) {
        int base = row * contextLength, pad = contextLength - used.length;
        for (int i = 0; i < pad; i++) {
            values.put(base + i, 0f);
            observed.put(base + i, 0f);
        }
        for (int i = 0; i < used.length; i++) {
            double x = used[i];
            boolean seen = !Double.isNaN(x);
            values.put(base + pad + i, seen ? (float) ((x - loc) / scale) : 0f);
            observed.put(base + pad + i, seen ? 1f : 0f);
        }
    }

    /** A value in the graph's normalised units, mapped back to the series' units. */
    public double denormalize(double normalized) {
        return loc + scale * normalized;
    }
}
