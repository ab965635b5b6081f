package io.headgate.engine.forecast;

import io.headgate.steer.Steering;

import java.util.List;

/**
 * A validated forecast stream: the series' history (NaN for missing), seasonal naive's season, the
 * horizon and quantile levels (indices into the model's levels) to return, how many observations
 * trigger a new forecast, the profiles compared beside the stream's own steering (fixed for the
 * stream; identity is among them unless it is the stream's own), and whether the stream ends after
 * its first forecast (a batch of series answered at once).
 */
public record ForecastRequest(double[] context, int season, int horizon, int[] levels, int refreshEvery, List<Steering> compared,
                              boolean oneShot) {
    public ForecastRequest {
        if (context.length == 0) throw new IllegalArgumentException("context is empty");
        if (season <= 0 || horizon <= 0 || refreshEvery <= 0) throw new IllegalArgumentException("season, horizon and refreshEvery must be positive");
        if (levels.length == 0) throw new IllegalArgumentException("no quantile levels");
        compared = List.copyOf(compared);
    }
}
