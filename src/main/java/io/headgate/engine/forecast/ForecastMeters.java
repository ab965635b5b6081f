package io.headgate.engine.forecast;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The forecast kind's own meters, per model, profile and arm, as counters Prometheus can divide:
 * relative MASE is {@code rate(headgate_forecast_absolute_error_total)} over
 * {@code rate(headgate_forecast_naive_absolute_error_total)}, relative WQL the same with the
 * quantile-loss counters — seasonal naive's errors counted on exactly the steps each profile was
 * scored on. Also forecasts issued, steps scored and observations received.
 */
public final class ForecastMeters {

    private record Profile(Counter forecasts, Counter steps, Counter absoluteError, Counter naiveAbsoluteError, Counter quantileLoss,
                           Counter naiveQuantileLoss) {
    }

    private final MeterRegistry registry;
    private final String model;
    private final Map<List<String>, Profile> profiles = new ConcurrentHashMap<>();
    private final Map<List<String>, Counter> observations = new ConcurrentHashMap<>();

    public ForecastMeters(MeterRegistry registry, String model) {
        this.registry = registry;
        this.model = model;
    }

    public static ForecastMeters detached(String model) {
        return new ForecastMeters(new SimpleMeterRegistry(), model);
    }

    private Profile profile(String profile, String arm) {
        return profiles.computeIfAbsent(List.of(profile, arm), k -> new Profile(
                counter("headgate.forecasts", "Forecasts issued (one per profile per origin)", profile, arm),
                counter("headgate.forecast.scored.steps", "Forecast steps scored against an actual", profile, arm),
                counter("headgate.forecast.absolute.error", "Sum of |actual - median| over scored steps", profile, arm),
                counter("headgate.forecast.naive.absolute.error", "Seasonal naive's |actual - forecast| on the same steps", profile, arm),
                counter("headgate.forecast.quantile.loss", "Sum over scored steps of the mean over levels of 2 x pinball loss", profile, arm),
                counter("headgate.forecast.naive.quantile.loss", "Seasonal naive's quantile loss on the same steps", profile, arm)));
    }

    private Counter counter(String name, String description, String profile, String arm) {
        return Counter.builder(name).description(description).tag("model", model).tag("profile", profile).tag("arm", arm).register(registry);
    }

    void forecast(String profile, String arm) {
        profile(profile, arm).forecasts.increment();
    }

    /** One scored step of {@code profile}'s forecast, beside seasonal naive's on the same step. */
    void scored(String profile, String arm, double absoluteError, double naiveAbsoluteError, double quantileLoss, double naiveQuantileLoss) {
        Profile p = profile(profile, arm);
        p.steps.increment();
        p.absoluteError.increment(absoluteError);
        p.naiveAbsoluteError.increment(naiveAbsoluteError);
        p.quantileLoss.increment(quantileLoss);
        p.naiveQuantileLoss.increment(naiveQuantileLoss);
    }

    void observed(String profile, String arm, int values) {
        observations.computeIfAbsent(List.of(profile, arm), k -> Counter.builder("headgate.forecast.observations")
                .description("Values clients sent back on their forecast streams").tag("model", model).tag("profile", profile).tag("arm", arm)
                .register(registry)).increment(values);
    }
}
