package io.headgate.engine.forecast;

import java.util.List;

/** How a forecast stream ended: values observed after the start, forecasts issued, and the final scores. */
public record ForecastSummary(long observations, int forecasts, List<ForecastOutput.Score> profiles, ForecastOutput.Score seasonalNaive) {
}
