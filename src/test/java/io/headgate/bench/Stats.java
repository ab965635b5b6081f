package io.headgate.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Medians with spread over repetitions, and percentiles of latency samples. */
final class Stats {
    private Stats() {
    }

    /** Median and range of repeated measurements of one figure (a ratio, a rate). */
    record Spread(double median, double min, double max, int n) {
        static Spread of(List<Double> values) {
            List<Double> s = new ArrayList<>(values);
            Collections.sort(s);
            return new Spread(percentile(s, 50), s.getFirst(), s.getLast(), s.size());
        }

        String format(String unit) {
            return String.format("%.3g%s (%.3g–%.3g)", median, unit, min, max);
        }
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
