package io.headgate.testing.counter;

import io.headgate.engine.Scheduler;
import io.headgate.server.LoadedModel;
import io.headgate.server.ModelKind;
import io.headgate.server.Resources;
import jakarta.enterprise.context.ApplicationScoped;

/** Registers the test-only kind with the gateway's kind registry, as a real kind registers itself. */
@ApplicationScoped
public class CounterKind implements ModelKind {

    @Override
    public String name() {
        return CounterWorkload.KIND_NAME;
    }

    @Override
    public LoadedModel load(Source source, Resources resources) {
        CounterWorkload workload = new CounterWorkload(source.config().slots());
        var scheduler = resources.hold(new Scheduler<>(source.name(), workload, source.scheduler(), source.metrics()));
        return new CounterModel(source.name(), source.manifest(), workload, scheduler, resources);
    }
}
