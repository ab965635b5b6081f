package io.headgate.effect.forecast;

import java.util.ArrayList;
import java.util.List;

/**
 * One real series of a held-out set: its last {@code testLength} values were never seen in training,
 * preceded by some history. Rolling origins split the held-out part into {@code windows} windows of
 * {@code horizon} values: origin k is {@code values.length − testLength + k·horizon}.
 *
 * @param values the stored values, NaN for missing
 */
public record HeldOutSeries(String name, String source, String frequency, int seasonLength, int horizon, int windows,
                            int testLength, double[] values) {

    public HeldOutSeries {
        if (seasonLength <= 0 || horizon <= 0 || windows <= 0) {
            throw new IllegalArgumentException("series " + name + ": season_length, horizon and windows must be positive");
        }
        if (testLength != windows * horizon || testLength >= values.length) {
            throw new IllegalArgumentException("series " + name + ": test_length must be windows x horizon and leave some history");
        }
    }

    public int origin(int window) {
        return values.length - testLength + window * horizon;
    }

    public List<HeldOutWindow> rollingOrigins() {
        List<HeldOutWindow> out = new ArrayList<>(windows);
        for (int k = 0; k < windows; k++) out.add(new HeldOutWindow(this, k));
        return out;
    }
}
