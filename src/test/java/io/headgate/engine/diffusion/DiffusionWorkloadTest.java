package io.headgate.engine.diffusion;

import io.headgate.engine.EngineMetrics;
import io.headgate.engine.Scheduler;
import io.headgate.engine.StreamEvent;
import io.headgate.model.BundleManifest;
import io.headgate.model.ControlRow;
import io.headgate.model.diffusion.DiffusionGraph;
import io.headgate.steer.GuidanceSpec;
import io.headgate.steer.Steering;
import io.headgate.steer.SteeringTag;
import io.headgate.testing.CollectingSink;
import io.headgate.testing.DigitsDit;
import io.headgate.testing.DigitsDitReference;
import io.headgate.testing.GuidedSampler;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Images through the scheduler: each stream's rows in the shared batch, a Steer after step k
 * changing the rows from step k + 1 exactly as the PyTorch reference's schedule, and streams batched
 * together equal to each alone.
 */
class DiffusionWorkloadTest {

    static final double TOLERANCE = 1e-4;

    static Steering steering(String name, BundleManifest.Dimensions d, float[] mix, double cfg, double s) {
        ControlRow row = ControlRow.identity(d);
        System.arraycopy(mix, 0, row.mix(), 0, mix.length);
        return new Steering(new SteeringTag(name, 1), row, null, new GuidanceSpec((float) cfg, (float) s, 0f));
    }

    static CollectingSink<DenoisingStep, DiffusionResult> sink() {
        return new CollectingSink<>();
    }

    @Test
    void aSteerAfterStepKAppliesFromStepKPlusOneAndMatchesTheReferenceSchedule() throws Exception {
        DigitsDitReference.Trajectory ref = DigitsDitReference.read().trajectory();
        DigitsDitReference.Phase first = ref.phases().get(0), second = ref.phases().get(1);
        int k = second.fromStep() - 1;
        try (DiffusionGraph graph = DigitsDit.graph()) {
            var d = graph.manifest().dimensions();
            var workload = new DiffusionWorkload(graph, 4, DiffusionMeters.detached("digits-dit"));
            try (var scheduler = new Scheduler<>("digits-dit", workload, new Scheduler.Config(4), EngineMetrics.detached())) {
                var sink = sink();
                // every step previews x_t, so each step's x can be checked against the reference's
                var request = new DiffusionRequest(ref.label(), ref.seed(), ref.steps(), null, 1, false);
                var stream = scheduler.submit(workload.open(request, ref.noise()),
                        steering("first", d, first.mix(), first.cfgScale(), first.perturbationScale()), 1, sink);
                for (int i = 0; i <= k; i++) {
                    DenoisingStep step = sink.nextOutput();
                    assertThat(step.index()).isEqualTo(i);
                    assertThat(step.steering().profile()).isEqualTo("first");
                    assertThat(step.rows()).as("conditional, unconditional and perturbed rows").isEqualTo(3);
                    if (i == k) scheduler.steer(stream, steering("second", d, second.mix(), second.cfgScale(), second.perturbationScale()), false);
                    scheduler.acknowledge(stream, i + 1);
                }
                scheduler.acknowledge(stream, 1000);
                var events = sink.awaitDone();
                var applied = events.stream().filter(e -> e instanceof StreamEvent.SteeringApplied).toList();
                assertThat(applied).hasSize(1);
                assertThat(((StreamEvent.SteeringApplied<?, ?>) applied.getFirst()).fromIndex()).isEqualTo(k + 1);
                List<DenoisingStep> steps = sink.outputs();
                assertThat(steps).hasSize(ref.steps());
                for (DenoisingStep step : steps) {
                    assertThat(step.steering().profile()).isEqualTo(step.index() <= k ? "first" : "second");
                    assertThat(step.guidance().cfgScale()).isEqualTo(step.index() <= k ? first.cfgScale() : second.cfgScale());
                    float[] x = step.index() == ref.steps() - 1 ? result(events).image() : step.preview().values();
                    assertThat(maxDifference(ref.x()[step.index()], x)).as("x after step %d", step.index()).isLessThanOrEqualTo(TOLERANCE);
                }
            }
        }
    }

    @Test
    void streamsBatchedTogetherEqualEachAlone() throws Exception {
        List<Steering> steerings;
        long[] labels = {3, 10, 10, 7};
        List<float[]> together = new ArrayList<>(), alone = new ArrayList<>();
        try (DiffusionGraph graph = DigitsDit.graph()) {
            var d = graph.manifest().dimensions();
            float[] layer1 = new float[d.layers() * d.heads()];
            for (int h = 0; h < d.heads(); h++) layer1[d.heads() + h] = 1f;
            float[] soft = new float[d.layers() * d.heads()];
            soft[0] = 0.5f;
            soft[7] = 0.25f;
            steerings = List.of(
                    steering("plain", d, new float[0], 1, 0),
                    steering("cfg", d, new float[0], 2, 0),
                    steering("pag", d, layer1, 1, 0.5),
                    steering("both", d, soft, 1.5, 1));
            var workload = new DiffusionWorkload(graph, 8, DiffusionMeters.detached("digits-dit"));
            try (var scheduler = new Scheduler<>("digits-dit", workload, new Scheduler.Config(8), EngineMetrics.detached())) {
                List<CollectingSink<DenoisingStep, DiffusionResult>> sinks = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    sinks.add(sink());
                    scheduler.submit(workload.open(new DiffusionRequest(labels[i], 100 + i, 12, null, 0, true)), steerings.get(i), 0, sinks.get(i));
                }
                for (var s : sinks) together.add(result(s.awaitDone()).image());
                for (int i = 0; i < 4; i++) {
                    var s = sink();
                    scheduler.submit(workload.open(new DiffusionRequest(labels[i], 100 + i, 12, null, 0, true)), steerings.get(i), 0, s);
                    alone.add(result(s.awaitDone()).image());
                }
            }
            for (int i = 0; i < 4; i++) {
                assertThat(maxDifference(together.get(i), alone.get(i))).as("image %d (%s)", i, steerings.get(i).tag().profile()).isLessThanOrEqualTo(1e-5);
            }
        }
        // and the bare loop gives the same images: the scheduler adds nothing to the arithmetic
        try (DiffusionGraph graph = DigitsDit.graph()) {
            var d = graph.manifest().dimensions();
            GuidedSampler bare = new GuidedSampler(graph);
            for (int i = 0; i < 4; i++) {
                Steering s = steerings.get(i);
                ControlRow perturbed = s.row();
                ControlRow steered = new ControlRow(perturbed.gain(), perturbed.bias(), new float[perturbed.mix().length]);
                boolean mixes = false;
                for (float u : perturbed.mix()) mixes |= u != 0;
                var g = new Guidance(s.guidance().cfgScale(), mixes ? s.guidance().perturbationScale() : 0, 0);
                float[] image = bare.sample(new long[]{labels[i]}, 100 + i, new GuidedSampler.Setting(g, steered, perturbed), new TimeGrid(12));
                assertThat(maxDifference(image, alone.get(i))).as("bare loop, image %d", i).isLessThanOrEqualTo(1e-5);
            }
        }
    }

    static DiffusionResult result(List<StreamEvent<DenoisingStep, DiffusionResult>> events) {
        var f = (StreamEvent.Finished<DenoisingStep, DiffusionResult>) events.getLast();
        return ((StreamEvent.Ending.Completed<DiffusionResult>) f.ending()).result();
    }

    static double maxDifference(double[] expected, float[] actual) {
        double worst = 0;
        for (int i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        return worst;
    }

    static double maxDifference(float[] expected, float[] actual) {
        double worst = 0;
        for (int i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        return worst;
    }
}
