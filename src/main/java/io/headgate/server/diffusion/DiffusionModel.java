package io.headgate.server.diffusion;

import io.headgate.effect.FeatureStatistics;
import io.headgate.engine.Scheduler;
import io.headgate.engine.diffusion.DenoisingStep;
import io.headgate.engine.diffusion.DiffusionResult;
import io.headgate.engine.diffusion.DiffusionState;
import io.headgate.engine.diffusion.DiffusionWorkload;
import io.headgate.model.BundleManifest;
import io.headgate.model.Execution;
import io.headgate.model.diffusion.SampleClassifier;
import io.headgate.server.LoadedModel;
import io.headgate.server.Resources;

/**
 * A diffusion model ready to serve: its workload and scheduler, and for quality scores its classifier
 * and the real held-out images' feature statistics (both null when the bundle has none).
 */
public record DiffusionModel(String name, BundleManifest manifest, DiffusionWorkload workload,
                             Scheduler<DiffusionState, Void, DenoisingStep, DiffusionResult> scheduler, SampleClassifier classifier,
                             FeatureStatistics realFeatures, Execution execution, Resources resources) implements LoadedModel {

    @Override
    public void close() {
        resources.close();
    }
}
