package io.headgate.engine.diffusion;

import io.headgate.model.BundleManifest.Dimensions;
import io.headgate.model.ControlRow;
import io.headgate.model.diffusion.DiffusionGraph;
import io.headgate.testing.DigitsDit;
import io.headgate.testing.GuidedSampler;
import io.headgate.testing.GuidedSampler.Plan;
import io.headgate.testing.GuidedSampler.Setting;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * Images sampled together — each with its own label, guidance, perturbed heads and steering, some
 * changing mid-run, so the batch changes size and layout between steps — end bit for bit where
 * each ends sampled alone.
 */
class BatchedGuidanceTest {

    @Test
    void differentGuidanceAndSteeringBatchedEqualEachAlone() throws Exception {
        try (DiffusionGraph graph = DigitsDit.graph()) {
            Dimensions d = graph.manifest().dimensions();
            int P = graph.imageSize();
            long nullLabel = graph.manifest().diffusion().nullLabel();
            ControlRow identity = ControlRow.identity(d);
            ControlRow pagLayer1 = mix(d, 1f, 1 * d.heads(), 1 * d.heads() + 1, 1 * d.heads() + 2, 1 * d.heads() + 3);
            ControlRow softPag = mix(d, 0.5f, 2, 2 * d.heads() + 1);
            ControlRow gained = ControlRow.identity(d);
            gained.gain()[3] = 0f;   // an ablated head on the guidance rows themselves
            gained.gain()[9] = 1.4f;
            List<Plan> plans = List.of(
                    Plan.constant(3, Noise.gaussian(1, P), Setting.guided(d, Guidance.NONE, identity)),
                    Plan.constant(7, Noise.gaussian(2, P), Setting.guided(d, new Guidance(2, 0, 0), identity)),
                    Plan.constant(nullLabel, Noise.gaussian(3, P), Setting.guided(d, new Guidance(1, 0.5, 0), pagLayer1)),
                    // adaptive: the perturbed row drops out once 2 − 0.004·(1000 − 1000t) ≤ 0, i.e. from t = 0.5
                    Plan.constant(1, Noise.gaussian(4, P), Setting.guided(d, new Guidance(1.5, 2, 0.004), softPag)),
                    new Plan(5, Noise.gaussian(5, P), step -> step <= 6
                            ? Setting.guided(d, Guidance.NONE, identity)
                            : new Setting(new Guidance(3, 1, 0), gained, pagLayer1)));
            TimeGrid grid = new TimeGrid(20);
            GuidedSampler sampler = new GuidedSampler(graph);
            float[][] together = sampler.run(plans, grid);
            List<float[]> alone = new ArrayList<>();
            for (Plan p : plans) alone.add(sampler.run(List.of(p), grid)[0]);
            for (int k = 0; k < plans.size(); k++) {
                for (int i = 0; i < P; i++) {
                    assertEquals(Float.floatToRawIntBits(alone.get(k)[i]), Float.floatToRawIntBits(together[k][i]),
                            "image " + k + " pixel " + i + ": alone " + alone.get(k)[i] + ", batched " + together[k][i]);
                }
            }
            // the settings differ enough to matter: the same noise under another setting ends elsewhere
            Plan other = Plan.constant(3, plans.getFirst().noise(), Setting.guided(d, new Guidance(1, 0.5, 0), pagLayer1));
            assertNotEquals(together[0][10], sampler.run(List.of(other), grid)[0][10]);
        }
    }

    private static ControlRow mix(Dimensions d, float u, int... heads) {
        ControlRow row = ControlRow.identity(d);
        for (int h : heads) row.mix()[h] = u;
        return row;
    }
}
