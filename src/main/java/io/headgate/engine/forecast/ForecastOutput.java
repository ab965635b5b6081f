package io.headgate.engine.forecast;

import io.headgate.steer.SteeringTag;

import java.util.List;

/** What a forecast stream emits: a forecast per origin, and scores as actuals arrive. */
public sealed interface ForecastOutput {

    /** Every compared profile's forecast from one origin (the index of its first step), beside seasonal naive's. */
    record Issued(long origin, List<ProfileForecast> profiles, double[] seasonalNaive) implements ForecastOutput {
    }

    /** The outstanding forecasts scored at the observations up to {@code index}, and every profile's running error. */
    record Scored(long index, int forecastsScored, List<Score> profiles, Score seasonalNaive) implements ForecastOutput {
    }

    /**
     * One profile's forecast: the median and the requested levels' quantiles, [level][step], each step's
     * values sorted (a quantile head's levels can cross).
     */
    record ProfileForecast(String profile, SteeringTag steering, double[] median, double[][] quantiles) {
    }

    /**
     * One profile's errors over every step scored so far. MASE divides by the in-sample
     * seasonal-naive MAE of the starting context; the relative measures divide by seasonal naive's
     * error on the same steps.
     */
    record Score(String profile, long steps, double mae, double mase, double smape, double wql, double coverage, double relativeMase,
                 double relativeWql) {
    }
}
