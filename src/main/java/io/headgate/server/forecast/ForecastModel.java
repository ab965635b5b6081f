package io.headgate.server.forecast;

import io.headgate.effect.forecast.HeldOutSet;
import io.headgate.engine.Scheduler;
import io.headgate.engine.forecast.ForecastMessage;
import io.headgate.engine.forecast.ForecastOutput;
import io.headgate.engine.forecast.ForecastState;
import io.headgate.engine.forecast.ForecastSummary;
import io.headgate.engine.forecast.ForecastWorkload;
import io.headgate.model.BundleManifest;
import io.headgate.model.Execution;
import io.headgate.server.LoadedModel;
import io.headgate.server.Resources;

/** A forecaster ready to serve: its workload and scheduler, and the held-out real series canaries and Compare score on (null when none). */
public record ForecastModel(String name, BundleManifest manifest, ForecastWorkload workload,
                            Scheduler<ForecastState, ForecastMessage, ForecastOutput, ForecastSummary> scheduler, HeldOutSet heldOut,
                            Execution execution, Resources resources) implements LoadedModel {

    @Override
    public void close() {
        resources.close();
    }
}
