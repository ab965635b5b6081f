package io.headgate.server.diffusion;

import io.headgate.effect.FeatureStatistics;
import io.headgate.engine.Scheduler;
import io.headgate.engine.diffusion.DiffusionMeters;
import io.headgate.engine.diffusion.DiffusionWorkload;
import io.headgate.model.BundleManifest;
import io.headgate.model.Execution;
import io.headgate.model.diffusion.DiffusionGraph;
import io.headgate.model.diffusion.SampleClassifier;
import io.headgate.server.LoadedModel;
import io.headgate.server.ModelKind;
import io.headgate.server.Resources;
import jakarta.enterprise.context.ApplicationScoped;

/** Loads {@code diffusion} bundles: the denoiser graph, the classifier and statistics that score samples, the workload. */
@ApplicationScoped
public class DiffusionKind implements ModelKind {

    @Override
    public String name() {
        return BundleManifest.DIFFUSION;
    }

    @Override
    public LoadedModel load(Source source, Resources resources) throws Exception {
        if (source.execution().onGpu()) {
            throw new IllegalArgumentException("headgate.models." + source.name() + ".execution is " + source.execution().label()
                    + ": diffusion models run on the CPU for now");
        }
        int threads = source.engine().intraOpThreads();
        DiffusionGraph graph = resources.hold(DiffusionGraph.load(source.bundle(), source.manifest(), new DiffusionGraph.SessionConfig(threads)));
        BundleManifest.Diffusion spec = source.manifest().diffusion();
        SampleClassifier classifier = spec.classifier() == null ? null
                : resources.hold(SampleClassifier.load(source.bundle(), source.manifest(), threads));
        FeatureStatistics real = spec.featureStats() == null ? null : FeatureStatistics.read(source.bundle().resolve(spec.featureStats()));
        var workload = new DiffusionWorkload(graph, source.config().slots(), new DiffusionMeters(source.metrics().registry(), source.name()));
        var scheduler = resources.hold(new Scheduler<>(source.name(), workload, source.scheduler(), source.metrics()));
        return new DiffusionModel(source.name(), source.manifest(), workload, scheduler, classifier, real, Execution.CPU, resources);
    }
}
