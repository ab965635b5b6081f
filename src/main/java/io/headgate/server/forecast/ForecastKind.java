package io.headgate.server.forecast;

import io.headgate.effect.forecast.HeldOutSet;
import io.headgate.engine.Scheduler;
import io.headgate.engine.forecast.ForecastMeters;
import io.headgate.engine.forecast.ForecastWorkload;
import io.headgate.model.BundleManifest;
import io.headgate.model.forecast.ForecastGraph;
import io.headgate.server.LoadedModel;
import io.headgate.server.ModelKind;
import io.headgate.server.Resources;
import jakarta.enterprise.context.ApplicationScoped;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Loads {@code forecast} bundles (a {@code patch_llama} checkpoint converts to one): the graph, the
 * workload, and the held-out real series beside the checkpoint ({@value #HELD_OUT}) when it has them.
 */
@ApplicationScoped
public class ForecastKind implements ModelKind {

    static final String HELD_OUT = "heldout-series.json";
    /** Profiles one stream may compare side by side, its own included. */
    static final int MAX_PROFILES = 8;

    @Override
    public String name() {
        return BundleManifest.FORECAST;
    }

    @Override
    public LoadedModel load(Source source, Resources resources) throws Exception {
        if (source.execution().onGpu()) {
            throw new IllegalArgumentException("headgate.models." + source.name() + ".execution is " + source.execution().label()
                    + ": forecasters run on the CPU for now");
        }
        ForecastGraph graph = resources.hold(ForecastGraph.load(source.bundle(),
                new ForecastGraph.SessionConfig(source.engine().intraOpThreads(), source.execution())));
        var workload = new ForecastWorkload(graph, source.config().slots(), MAX_PROFILES, new ForecastMeters(source.metrics().registry(), source.name()));
        var scheduler = resources.hold(new Scheduler<>(source.name(), workload, source.scheduler(), source.metrics()));
        return new ForecastModel(source.name(), source.manifest(), workload, scheduler, heldOut(source), graph.execution(), resources);
    }

    /** The held-out set beside the model's checkpoint (or in the bundle itself). */
    private static HeldOutSet heldOut(Source source) throws Exception {
        Path inBundle = source.bundle().resolve(HELD_OUT);
        if (Files.isRegularFile(inBundle)) return HeldOutSet.read(inBundle);
        BundleManifest.Source from = source.manifest().source();
        if (from == null || from.checkpoint() == null) return null;
        Path beside = Path.of(from.checkpoint()).resolve(HELD_OUT);
        return Files.isRegularFile(beside) ? HeldOutSet.read(beside) : null;
    }
}
