package io.headgate.server;

import io.headgate.engine.EngineMetrics;
import io.headgate.engine.Scheduler;
import io.headgate.model.BundleManifest;
import io.headgate.model.Execution;

import java.nio.file.Path;

/**
 * A kind of model the gateway serves, keyed by the manifest's {@code kind}: loads a bundle into its
 * graph, workload, scheduler and whatever else the kind needs. Implementations are CDI beans;
 * {@link ModelHost} finds them by {@link #name()}.
 */
public interface ModelKind {

    /** The manifest kind this loads, e.g. "causal-lm". */
    String name();

    /**
     * Loads one model. Everything acquired is handed to {@code resources} as soon as it exists, so
     * that a load failing part way releases it all.
     */
    LoadedModel load(Source source, Resources resources) throws Exception;

    /** Loads through {@code kind}; if the load fails, what it acquired is released before the failure propagates. */
    static LoadedModel load(ModelKind kind, Source source, Resources resources) throws Exception {
        try {
            return kind.load(source, resources);
        } catch (Throwable t) {
            resources.close();
            throw t;
        }
    }

    /**
     * What a load starts from: the model's name and configuration, its bundle, the engine's settings,
     * and where its graph runs ({@code auto} already resolved); {@code plainBundle} is a language
     * model's graph without control inputs, for batches under the identity, or null.
     */
    record Source(String name, Path bundle, BundleManifest manifest, HeadgateConfig.ModelConfig config, HeadgateConfig.Engine engine,
                  Scheduler.Config scheduler, EngineMetrics metrics, Execution execution, Path plainBundle) {
    }
}
