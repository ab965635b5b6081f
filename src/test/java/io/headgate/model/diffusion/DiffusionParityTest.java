package io.headgate.model.diffusion;

import io.headgate.engine.diffusion.Guidance;
import io.headgate.engine.diffusion.TimeGrid;
import io.headgate.model.ControlBatch;
import io.headgate.model.ControlRow;
import io.headgate.testing.DigitsDit;
import io.headgate.testing.DigitsDitReference;
import io.headgate.testing.DigitsDitReference.Case;
import io.headgate.testing.DigitsDitReference.Phase;
import io.headgate.testing.GuidedSampler;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The steerable graph under ONNX Runtime against the PyTorch reference (float64): velocities under
 * identity, gain, bias, mix and all three controls, one row at a time and all rows in one batch; and a
 * full guided trajectory (CFG and perturbation guidance, the steering changing after a step) driven by
 * Headgate's own sampler, guidance and noise.
 */
class DiffusionParityTest {

    static final double TOLERANCE = 1e-4;

    @Test
    void velocitiesMatchTheReferenceAloneAndBatched() throws Exception {
        DigitsDitReference ref = DigitsDitReference.read();
        try (DiffusionGraph graph = DigitsDit.graph()) {
            var d = graph.manifest().dimensions();
            List<Case> cases = ref.cases();
            Set<String> settings = new HashSet<>();
            int P = graph.imageSize(), n = cases.size();
            ControlBatch one = new ControlBatch(d, 1), all = new ControlBatch(d, n);
            float[] x = new float[n * P], t = new float[n];
            long[] labels = new long[n];
            for (int i = 0; i < n; i++) {
                Case c = cases.get(i);
                settings.add(c.name().substring(0, c.name().indexOf('/')));
                one.set(0, c.row(d));
                FloatBuffer v = graph.forward(1, c.x(), new float[]{c.t()}, new long[]{c.label()}, one);
                assertClose(c.velocity(), v, 0, c.name() + " alone");
                System.arraycopy(c.x(), 0, x, i * P, P);
                t[i] = c.t();
                labels[i] = c.label();
                all.set(i, c.row(d));
            }
            FloatBuffer v = graph.forward(n, x, t, labels, all);
            for (int i = 0; i < n; i++) assertClose(cases.get(i).velocity(), v, i * P, cases.get(i).name() + " batched");
            assertEquals(Set.of("identity", "gain", "bias", "mix", "all"), settings);
            assertTrue(cases.stream().anyMatch(c -> c.label() == graph.manifest().diffusion().nullLabel()), "no unconditional case");
        }
    }

    @Test
    void guidedTrajectoryWithASteeringChangeMatchesTheReferenceAfterEveryStep() throws Exception {
        DigitsDitReference.Trajectory ref = DigitsDitReference.read().trajectory();
        assertTrue(ref.phases().size() > 1, "the fixture has no steering change");
        try (DiffusionGraph graph = DigitsDit.graph()) {
            var d = graph.manifest().dimensions();
            GuidedSampler.Plan plan = new GuidedSampler.Plan(ref.label(), ref.noise(), step -> {
                Phase p = ref.phaseAt(step);
                ControlRow perturbed = ControlRow.identity(d);
                System.arraycopy(p.mix(), 0, perturbed.mix(), 0, p.mix().length);
                return GuidedSampler.Setting.guided(d, new Guidance(p.cfgScale(), p.perturbationScale(), 0), perturbed);
            });
            int[] checked = {0};
            new GuidedSampler(graph).run(List.of(plan), new TimeGrid(ref.steps()), (step, image, x) -> {
                double worst = 0;
                for (int i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(ref.x()[step][i] - x[i]));
                assertTrue(worst <= TOLERANCE, "step " + step + ": max |Δx| " + worst + " > " + TOLERANCE);
                checked[0]++;
            });
            assertEquals(ref.steps(), checked[0]);
        }
    }

    static void assertClose(double[] expected, FloatBuffer actual, int offset, String what) {
        double worst = 0;
        for (int i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - actual.get(offset + i)));
        assertTrue(worst <= TOLERANCE, what + ": max |Δvelocity| " + worst + " > " + TOLERANCE);
    }
}
