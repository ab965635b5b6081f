package io.headgate.api;

import io.headgate.api.v1.ProfileForecast;
import io.headgate.api.v1.QuantileValues;
import io.headgate.engine.forecast.ForecastOutput;
import io.headgate.engine.forecast.Frequency;
import io.headgate.model.BundleManifest;

import java.util.List;

/** What the forecast RPCs validate the same way: a series' history, seasonality and horizon, the quantile levels asked for. */
final class Forecasts {
    private Forecasts() {
    }

    /** A validated series: its history (NaN for missing), seasonal naive's season and the horizon. */
    record Series(double[] context, int season, int horizon) {
    }

    /**
     * @param frequency    the named frequency, or null
     * @param seasonLength the explicit season, or -1 when not set
     */
    static Series series(String at, List<Double> context, int horizon, String frequency, long seasonLength, BundleManifest.Forecast spec) {
        if (context.isEmpty()) throw Errors.invalid(at + ".context", "empty; send the series' history, oldest first");
        double[] values = new double[context.size()];
        boolean observed = false;
        for (int i = 0; i < values.length; i++) {
            values[i] = context.get(i);
            if (Double.isInfinite(values[i])) throw Errors.invalid(at + ".context[" + i + "]", values[i] + "; values must be finite or NaN (missing)");
        }
        for (int i = Math.max(0, values.length - spec.contextLength()); i < values.length; i++) observed |= !Double.isNaN(values[i]);
        if (!observed) {
            throw Errors.invalid(at + ".context", "no observed value among the last " + Math.min(values.length, spec.contextLength())
                    + " (the values the model reads); NaN marks a missing value");
        }
        long h = Integer.toUnsignedLong(horizon);
        if (h == 0 || h > spec.horizon()) throw Errors.invalid(at + ".horizon", h + " is out of range; allowed: 1 to " + spec.horizon());
        int season;
        if (frequency != null) {
            try {
                season = Frequency.parse(frequency).seasonLength();
            } catch (IllegalArgumentException e) {
                throw Errors.invalid(at + ".frequency", e.getMessage());
            }
        } else if (seasonLength >= 0) {
            long m = Integer.toUnsignedLong((int) seasonLength);
            if (m == 0 || m > spec.contextLength()) {
                throw Errors.invalid(at + ".season_length", m + " is out of range; allowed: 1 to " + spec.contextLength());
            }
            season = (int) m;
        } else {
            throw Errors.invalid(at + ".seasonality", "set frequency or season_length");
        }
        return new Series(values, season, (int) h);
    }

    /** The indices of the asked levels among the model's (all when none asked), increasing. */
    static int[] levels(String field, List<Double> asked, BundleManifest.Forecast spec) {
        List<Double> model = spec.quantiles();
        if (asked.isEmpty()) {
            int[] all = new int[model.size()];
            for (int i = 0; i < all.length; i++) all[i] = i;
            return all;
        }
        int[] out = new int[asked.size()];
        for (int i = 0; i < out.length; i++) {
            double level = asked.get(i);
            int found = -1;
            for (int l = 0; l < model.size(); l++) if (Math.abs(model.get(l) - level) < 1e-9) found = l;
            if (found < 0) throw Errors.invalid(field + "[" + i + "]", level + " is not a level the model forecasts: " + model);
            if (i > 0 && found <= out[i - 1]) throw Errors.invalid(field + "[" + i + "]", "levels must be increasing and distinct");
            out[i] = found;
        }
        return out;
    }

    static ProfileForecast profile(ForecastOutput.ProfileForecast p, List<Double> levels) {
        ProfileForecast.Builder b = ProfileForecast.newBuilder().setProfile(p.profile()).setSteering(ProtoMapping.tag(p.steering()));
        for (double v : p.median()) b.addMedian(v);
        for (int l = 0; l < p.quantiles().length; l++) {
            QuantileValues.Builder q = QuantileValues.newBuilder().setLevel(levels.get(l));
            for (double v : p.quantiles()[l]) q.addValues(v);
            b.addQuantiles(q);
        }
        return b.build();
    }
}
