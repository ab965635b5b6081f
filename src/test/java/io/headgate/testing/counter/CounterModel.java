package io.headgate.testing.counter;

import io.headgate.engine.Scheduler;
import io.headgate.model.BundleManifest;
import io.headgate.model.Execution;
import io.headgate.server.LoadedModel;
import io.headgate.server.Resources;

/** A loaded test-counter model. */
public record CounterModel(String name, BundleManifest manifest, CounterWorkload workload,
                           Scheduler<CounterState, Long, CounterOutput, CounterResult> scheduler, Resources resources)
        implements LoadedModel {

    @Override
    public Execution execution() {
        return Execution.CPU;
    }

    @Override
    public void close() {
        resources.close();
    }
}
