package io.headgate.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Medians with their interquartile range over repetitions, and percentiles of latency samples. */
final class Stats {
    private Stats() {
    }

    /** Median, quartiles and range of repeated measurements of one figure (a ratio, a rate). */
    record Spread(double median, double q1, double q3, double min, double max, int n) {
        static Spread of(List<Double> values) {
            if (values.isEmpty()) throw new IllegalArgumentException("no values");
            List<Double> s = sorted(values);
            return new Spread(quantile(s, 0.5), quantile(s, 0.25), quantile(s, 0.75), s.getFirst(), s.getLast(), s.size());
        }

        /** "0.981× (IQR 0.975–0.990)". */
        String format(String unit) {
            return String.format("%s%s (IQR %s–%s)", number(median), unit, number(q1), number(q3));
        }

        /** Half the interquartile range relative to the median: how tight the figure is. */
        double relativeSpread() {
            return (q3 - q1) / 2 / Math.abs(median);
        }
    }

    /** Three significant digits, without exponents below a million. */
    static String number(double x) {
        double a = Math.abs(x);
        if (a >= 1e6 || (a > 0 && a < 1e-3)) return String.format("%.3g", x);
        if (a >= 100) return String.format("%.0f", x);
        if (a >= 10) return String.format("%.1f", x);
        if (a >= 1) return String.format("%.2f", x);
        return String.format("%.3f", x);
    }

    /** Linear interpolation between order statistics (the "R-7" quantile). */
    static double quantile(List<Double> sorted, double q) {
        if (sorted.isEmpty()) return Double.NaN;
        double h = (sorted.size() - 1) * q;
        int lo = (int) Math.floor(h);
        int hi = Math.min(sorted.size() - 1, lo + 1);
        return sorted.get(lo) + (h - lo) * (sorted.get(hi) - sorted.get(lo));
    }

    /** Nearest-rank percentile of sorted values. */
    static double percentile(List<Double> sorted, double p) {
        if (sorted.isEmpty()) return Double.NaN;
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
    }

    static List<Double> sorted(List<Double> values) {
        List<Double> s = new ArrayList<>(values);
        Collections.sort(s);
        return s;
    }
}
