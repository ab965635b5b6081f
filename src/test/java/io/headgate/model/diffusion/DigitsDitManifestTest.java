package io.headgate.model.diffusion;

import io.headgate.model.BundleManifest;
import io.headgate.model.GraphContract;
import io.headgate.testing.DigitsDit;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The committed digits-dit manifest parses as a diffusion bundle and names files that exist. */
class DigitsDitManifestTest {

    @Test
    void manifestParsesAsADiffusionBundle() throws Exception {
        BundleManifest m = BundleManifest.read(DigitsDit.BUNDLE);
        assertEquals("digits-dit", m.name());
        assertEquals(BundleManifest.DIFFUSION, m.kind());
        assertEquals(new BundleManifest.Dimensions(4, 4, 4, 16, 64, 0), m.dimensions());
        assertEquals(16, m.maxLength());
        assertEquals(GraphContract.CONTROLS, m.controls());
        BundleManifest.Diffusion d = m.diffusion();
        assertEquals(new BundleManifest.Diffusion(1, 8, 8, 10, -1f, 1f, 20, 250, d.defaultCfgScale(), d.defaultPerturbationScale(),
                "classifier.onnx", "feature-stats.json"), d);
        assertEquals(10, d.nullLabel());
        for (String file : new String[]{m.graph(), d.classifier(), d.featureStats()}) {
            assertTrue(Files.isRegularFile(DigitsDit.BUNDLE.resolve(file)), file + " is missing from the bundle");
        }
    }

    @Test
    void graphAndClassifierLoadWithTheNamesOfTheContract() throws Exception {
        try (DiffusionGraph graph = DigitsDit.graph(); SampleClassifier classifier = DigitsDit.classifier()) {
            assertEquals(64, graph.imageSize());
            assertEquals(64, classifier.featureSize());
            assertEquals(64, DigitsDit.realFeatures().dimension());
        }
    }
}
