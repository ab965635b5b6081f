package io.headgate.effect;

import io.headgate.engine.diffusion.Guidance;
import io.headgate.engine.diffusion.TimeGrid;
import io.headgate.model.BundleManifest.Dimensions;
import io.headgate.model.ControlRow;
import io.headgate.model.diffusion.DiffusionGraph;
import io.headgate.model.diffusion.SampleClassifier;
import io.headgate.testing.DigitsDit;
import io.headgate.testing.GuidedSampler;
import io.headgate.testing.GuidedSampler.Setting;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the demo model's samples are worth, through Headgate's own graph, sampler and quality score
 * (20 Euler steps, every image of a set in one batch): conditional samples are classified as their
 * label, classifier-free guidance does not lower that, and mild perturbation guidance on the whole
 * layer {@value #PAG_LAYER} (the best whole layer at s = 0.5 in models/digits-dit/QUALITY.md) brings unconditional
 * samples closer to real ones in Fréchet distance, for every seed.
 */
class DigitsDitQualityTest {

    static final int PAG_LAYER = 0;
    static final double PAG_SCALE = 0.5, CFG_SCALE = 2;
    static final long[] SEEDS = {11, 12, 13};
    static final int CONDITIONAL = 200, UNCONDITIONAL = 250;

    static DiffusionGraph graph;
    static SampleClassifier classifier;
    static FeatureStatistics real;
    static final TimeGrid GRID = new TimeGrid(20);

    @BeforeAll
    static void load() throws Exception {
        graph = DigitsDit.graph();
        classifier = DigitsDit.classifier();
        real = DigitsDit.realFeatures();
    }

    @AfterAll
    static void close() throws Exception {
        graph.close();
        classifier.close();
    }

    @Test
    void conditionalSamplesAreClassifiedAsTheirLabelWithAndWithoutClassifierFreeGuidance() throws Exception {
        Dimensions d = graph.manifest().dimensions();
        long[] labels = new long[CONDITIONAL];
        for (int k = 0; k < labels.length; k++) labels[k] = k % 10;
        SampleQuality plain = quality(labels, SEEDS[0], Setting.guided(d, Guidance.NONE, ControlRow.identity(d)));
        SampleQuality cfg = quality(labels, SEEDS[0], Setting.guided(d, new Guidance(CFG_SCALE, 0, 0), ControlRow.identity(d)));
        assertTrue(plain.accuracy() >= 0.9, "accuracy without CFG " + plain.accuracy());
        assertTrue(cfg.accuracy() >= plain.accuracy(), "accuracy with CFG " + CFG_SCALE + ": " + cfg.accuracy() + " < " + plain.accuracy() + " without");
    }

    @Test
    void mildPerturbationGuidanceLowersUnconditionalFrechetDistanceForEverySeed() throws Exception {
        Dimensions d = graph.manifest().dimensions();
        long[] unconditional = new long[UNCONDITIONAL];
        Arrays.fill(unconditional, graph.manifest().diffusion().nullLabel());
        ControlRow pag = ControlRow.identity(d);
        for (int h = 0; h < d.heads(); h++) pag.mix()[PAG_LAYER * d.heads() + h] = 1f;
        StringBuilder seen = new StringBuilder();
        for (long seed : SEEDS) {
            double none = quality(unconditional, seed, Setting.guided(d, Guidance.NONE, pag)).frechetDistance();
            double guided = quality(unconditional, seed, Setting.guided(d, new Guidance(1, PAG_SCALE, 0), pag)).frechetDistance();
            seen.append(String.format(" seed %d: %.2f -> %.2f;", seed, none, guided));
            assertTrue(guided < none, "PAG on layer " + PAG_LAYER + " at s = " + PAG_SCALE + " did not lower FD:" + seen);
        }
    }

    private static SampleQuality quality(long[] labels, long seed, Setting setting) throws Exception {
        float[] images = new GuidedSampler(graph).sample(labels, seed, setting, GRID);
        boolean conditional = labels[0] != graph.manifest().diffusion().nullLabel();
        return SampleQuality.measure(classifier.classify(labels.length, images), conditional ? labels : null, real);
    }
}
