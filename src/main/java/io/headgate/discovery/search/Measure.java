package io.headgate.discovery.search;

/**
 * One measured quantity of a candidate on a split: its value and, where it is a mean over examples,
 * each example's value in the split's order (so two candidates measured on one split are paired).
 *
 * @param perExample null where the measure is not a mean over examples (a Fréchet distance)
 */
public record Measure(String name, boolean lowerIsBetter, double value, double[] perExample) {

    /** How much worse this is than {@code baseline}, in the measure's units (negative: better). */
    public double worseThan(Measure baseline) {
        return lowerIsBetter ? value - baseline.value : baseline.value - value;
    }

    public boolean betterThan(Measure other) {
        return worseThan(other) < 0;
    }

    /**
     * The mean per-example difference from {@code baseline} and its standard error (sample standard
     * deviation of the differences over √n): NaN where either has no per-example values. Examples
     * whose value is NaN on either side are left out.
     */
    public double[] pairedDifference(Measure baseline) {
        if (perExample == null || baseline.perExample == null || perExample.length != baseline.perExample.length) {
            return new double[]{Double.NaN, Double.NaN};
        }
        int n = 0;
        double sum = 0, sumSq = 0;
        for (int i = 0; i < perExample.length; i++) {
            double d = perExample[i] - baseline.perExample[i];
            if (Double.isNaN(d)) continue;
            n++;
            sum += d;
            sumSq += d * d;
        }
        if (n < 2) return new double[]{n == 1 ? sum : Double.NaN, Double.NaN};
        double mean = sum / n, variance = (sumSq - n * mean * mean) / (n - 1);
        return new double[]{mean, Math.sqrt(Math.max(0, variance) / n)};
    }
}
