package io.headgate.testing;

import io.headgate.effect.FeatureStatistics;
import io.headgate.model.BundleManifest;
import io.headgate.model.diffusion.DiffusionGraph;
import io.headgate.model.diffusion.SampleClassifier;

import java.nio.file.Path;
import java.util.List;

/** The demo diffusion model: its committed bundle, the plain graph and PyTorch references of the tests. */
public final class DigitsDit {
    private DigitsDit() {
    }

    public static final Path BUNDLE = Path.of("models", "digits-dit");
    public static final Path FIXTURES = Path.of("src", "test", "resources", "reference", "digits-dit");

    public static DiffusionGraph graph() throws Exception {
        return DiffusionGraph.load(BUNDLE, DiffusionGraph.SessionConfig.DEFAULT);
    }

    /** The same weights exported without control inputs. */
    public static DiffusionGraph plainGraph() throws Exception {
        BundleManifest m = BundleManifest.read(BUNDLE);
        BundleManifest plain = new BundleManifest(m.format(), m.name() + "-plain", m.kind(), "plain.onnx", null, m.dimensions(),
                m.maxLength(), List.of(), null, null, null, null, null, null, m.diffusion(), null);
        return DiffusionGraph.load(FIXTURES, plain, DiffusionGraph.SessionConfig.DEFAULT);
    }

    public static SampleClassifier classifier() throws Exception {
        return SampleClassifier.load(BUNDLE, BundleManifest.read(BUNDLE), 1);
    }

    public static FeatureStatistics realFeatures() throws Exception {
        return FeatureStatistics.read(BUNDLE.resolve(BundleManifest.read(BUNDLE).diffusion().featureStats()));
    }
}
