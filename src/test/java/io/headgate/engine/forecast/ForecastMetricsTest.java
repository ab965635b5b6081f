package io.headgate.engine.forecast;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every scoring function against values worked out by hand (the arithmetic is in the comments). */
class ForecastMetricsTest {

    static final double EPS = 1e-12;

    @Test
    void seasonalNaiveRepeatsTheLastSeason() {
        assertArrayEquals(new double[]{4, 5, 6, 4, 5}, SeasonalNaive.forecast(new double[]{1, 2, 3, 4, 5, 6}, 3, 5));
        // missing values carried forward: [1, 1, 3, 3] -> last season [3, 3]
        assertArrayEquals(new double[]{3, 3, 3}, SeasonalNaive.forecast(new double[]{1, Double.NaN, 3, Double.NaN}, 2, 3));
        // a leading gap takes the first observed value; the last one is what naive repeats
        assertArrayEquals(new double[]{5, 5}, SeasonalNaive.forecast(new double[]{Double.NaN, 2, 5}, 1, 2));
        // shorter than one season: naive
        assertArrayEquals(new double[]{8, 8}, SeasonalNaive.forecast(new double[]{7, 8}, 12, 2));
        assertThrows(IllegalArgumentException.class, () -> SeasonalNaive.forecast(new double[]{Double.NaN}, 1, 1));
    }

    @Test
    void scaleIsTheInSampleSeasonalNaiveMae() {
        // |3-1| + |2-3| + |6-2| = 7 over 3 pairs
        assertEquals(7.0 / 3, SeasonalNaive.scale(new double[]{1, 3, 2, 6}, 1), EPS);
        // season 2: |2-1| + |6-3| = 4 over 2 pairs
        assertEquals(2.0, SeasonalNaive.scale(new double[]{1, 3, 2, 6}, 2), EPS);
        // pairs touching a missing value are skipped: only |6-2|
        assertEquals(4.0, SeasonalNaive.scale(new double[]{1, Double.NaN, 2, 6}, 1), EPS);
        assertTrue(Double.isNaN(SeasonalNaive.scale(new double[]{1, 2}, 5)));
    }

    @Test
    void maseSmapeAndCoverage() {
        // MAE (1 + 1) / 2 = 1, scaled by 2
        assertEquals(0.5, ForecastMetrics.mase(new double[]{2, 4}, new double[]{3, 3}, 2), EPS);
        // 2*10/210 and 0 (both zero); the missing actual is skipped: 100 * (0.0952381 + 0) / 2
        assertEquals(100 * (20.0 / 210) / 2, ForecastMetrics.smape(new double[]{100, 0, Double.NaN}, new double[]{110, 0, 7}), EPS);
        // 10 in [8, 12], 20 in [15, 30], 40 not in [41, 50]; the missing one is skipped
        assertEquals(2.0 / 3, ForecastMetrics.coverage(new double[]{10, 20, 40, Double.NaN}, new double[]{8, 15, 41, 0},
                new double[]{12, 30, 50, 1}), EPS);
    }

    @Test
    void pinballAndWeightedQuantileLoss() {
        assertEquals(0.9 * 2, ForecastMetrics.pinball(10, 8, 0.9), EPS);      // under-forecast by 2
        assertEquals(0.1 * 2, ForecastMetrics.pinball(10, 12, 0.9), EPS);     // over-forecast by 2
        double[] levels = {0.1, 0.5, 0.9};
        double[][] q = {{8, 10, 12}, {15, 21, 30}};
        // level 0.1: 0.1*2 + 0.1*5 = 0.7; level 0.5: 0 + 0.5*1 = 0.5; level 0.9: 0.1*2 + 0.1*10 = 1.2; sum |y| = 30
        double expected = (2 * 0.7 / 30 + 2 * 0.5 / 30 + 2 * 1.2 / 30) / 3;
        assertEquals(expected, ForecastMetrics.weightedQuantileLoss(new double[]{10, 20}, q, levels), EPS);
    }

    @Test
    void aPointForecastAtEveryLevelHasTheWqlOfItsAbsoluteErrors() {
        // errors -2 and +4: per level 2(1-τ) + 4τ = 2.2, 3, 3.8 -> mean of 2*Σ/30 = 6/30 = Σ|e| / Σ|y|
        ErrorSums naive = new ErrorSums(3).addPointAt(new double[]{10, 20}, new double[]{12, 16}, new double[]{0.1, 0.5, 0.9});
        assertEquals(6.0 / 30, naive.weightedQuantileLoss(), EPS);
        assertEquals(3.0, naive.mae(), EPS);
    }

    @Test
    void errorSumsPoolWindows() {
        double[] levels = {0.1, 0.5, 0.9};
        ErrorSums sums = new ErrorSums(3)
                .add(new double[]{10, 20}, new double[]{10, 21}, new double[][]{{8, 10, 12}, {15, 21, 30}}, levels)
                .add(new double[]{Double.NaN, 5}, new double[]{0, 4}, new double[][]{{0, 0, 0}, {4, 4, 6}}, levels);
        assertEquals(3, sums.count());
        assertEquals((0 + 1 + 1) / 3.0, sums.mae(), EPS);
        // 5 lies in [4, 6]: all three covered
        assertEquals(1.0, sums.coverage(), EPS);
        // window 2's step (y 5 against 4, 4, 6) adds 0.1*1, 0.5*1 and 0.1*1 (6 is over by 1); sum |y| = 35
        double expected = (2 * (0.7 + 0.1) + 2 * (0.5 + 0.5) + 2 * (1.2 + 0.1)) / 35 / 3;
        assertEquals(expected, sums.weightedQuantileLoss(), EPS);
    }

    @Test
    void ratiosAndGeometricMeans() {
        assertEquals(0.5, ForecastMetrics.relative(1, 2), EPS);
        assertTrue(Double.isNaN(ForecastMetrics.relative(1, 0)));
        assertEquals(4.0, ForecastMetrics.geometricMean(2, 8), EPS);
        // NaN, 0 and negatives are left out: sqrt(1 * 4)
        assertEquals(2.0, ForecastMetrics.geometricMean(1, 4, Double.NaN, 0, -1), EPS);
        assertTrue(Double.isNaN(ForecastMetrics.geometricMean()));
    }

    @Test
    void crossingQuantilesAreSorted() {
        double[][] q = {{3, 1, 2}, {1, 2, 3}};
        assertEquals(1, QuantileOrder.crossings(q));
        assertArrayEquals(new double[]{1, 2, 3}, QuantileOrder.sorted(q)[0]);
        double[] flat = {0, 3, 1, 2, 9, 7, 8};
        QuantileOrder.sort(flat, 1, 2, 3);
        assertArrayEquals(new double[]{0, 1, 2, 3, 7, 8, 9}, flat);
    }

    @Test
    void frequenciesByLabel() {
        assertEquals(Frequency.MONTHLY, Frequency.parse("Monthly"));
        assertEquals(12, Frequency.parse("monthly").seasonLength());
        assertEquals(5, Frequency.parse("business_daily").seasonLength());
        assertThat(assertThrows(IllegalArgumentException.class, () -> Frequency.parse("fortnightly")).getMessage())
                .contains("fortnightly").contains("hourly").contains("yearly");
    }
}
