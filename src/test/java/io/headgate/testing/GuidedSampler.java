package io.headgate.testing;

import io.headgate.engine.diffusion.FlowMatching;
import io.headgate.engine.diffusion.Guidance;
import io.headgate.engine.diffusion.Noise;
import io.headgate.engine.diffusion.TimeGrid;
import io.headgate.model.BundleManifest.Dimensions;
import io.headgate.model.ControlBatch;
import io.headgate.model.ControlRow;
import io.headgate.model.diffusion.DiffusionGraph;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;

/**
 * A bare sampling loop over the diffusion graph, no scheduler: every image's rows of a step share one
 * forward pass — conditional, unconditional (null label) when its guidance uses CFG, perturbed (the
 * conditional input under the perturbed controls) when it perturbs at that time — then each
 * image's velocities are combined by its guidance and it takes an Euler step.
 */
public final class GuidedSampler {

    /**
     * What an image is sampled under at one step: the guidance scales, the controls of its conditional
     * and unconditional rows ({@code steered}, identity unless the steering changes heads itself) and
     * those of its perturbed row.
     */
    public record Setting(Guidance guidance, ControlRow steered, ControlRow perturbed) {
        /** Identity controls on the guidance rows, {@code perturbed} on the perturbed row. */
        public static Setting guided(Dimensions d, Guidance guidance, ControlRow perturbed) {
            return new Setting(guidance, ControlRow.identity(d), perturbed);
        }
    }

    /** One image: its label (the null label for unconditional), its initial noise, its setting per step. */
    public record Plan(long label, float[] noise, IntFunction<Setting> schedule) {
        public static Plan constant(long label, float[] noise, Setting setting) {
            return new Plan(label, noise, step -> setting);
        }
    }

    /** Sees every image's x after every step. */
    public interface Observer {
        void afterStep(int step, int image, float[] x);
    }

    private final DiffusionGraph graph;
    private final int size;
    private final long nullLabel;

    public GuidedSampler(DiffusionGraph graph) {
        this.graph = graph;
        this.size = graph.imageSize();
        this.nullLabel = graph.manifest().diffusion().nullLabel();
    }

    /**
     * {@code labels.length} images under one setting, image k from values [k·P, (k+1)·P) of
     * {@code Noise.gaussian(seed, n·P)}; returned back to back, all sampled in one batch.
     */
    public float[] sample(long[] labels, long seed, Setting setting, TimeGrid grid) throws Exception {
        int n = labels.length;
        float[] noise = Noise.gaussian(seed, n * size);
        List<Plan> plans = new ArrayList<>(n);
        for (int k = 0; k < n; k++) plans.add(Plan.constant(labels[k], Arrays.copyOfRange(noise, k * size, (k + 1) * size), setting));
        float[][] x = run(plans, grid);
        float[] images = new float[n * size];
        for (int k = 0; k < n; k++) System.arraycopy(x[k], 0, images, k * size, size);
        return images;
    }

    public float[][] run(List<Plan> plans, TimeGrid grid) throws Exception {
        return run(plans, grid, (step, image, x) -> { });
    }

    /** Samples every plan together; returns each image's final x. */
    public float[][] run(List<Plan> plans, TimeGrid grid, Observer observer) throws Exception {
        int n = plans.size();
        float[][] x = new float[n][];
        for (int k = 0; k < n; k++) x[k] = plans.get(k).noise().clone();
        ControlBatch controls = new ControlBatch(graph.manifest().dimensions(), 3 * n);
        float[] inputs = new float[3 * n * size], times = new float[3 * n];
        long[] labels = new long[3 * n];
        int[] uncondRow = new int[n], pertRow = new int[n];
        Setting[] settings = new Setting[n];
        float[] vC = new float[size], vU = new float[size], vP = new float[size], v = new float[size];
        for (int step = 0; step < grid.steps(); step++) {
            double t = grid.from(step);
            int rows = 0;
            for (int k = 0; k < n; k++) {
                Plan plan = plans.get(k);
                Setting s = settings[k] = plan.schedule().apply(step);
                rows = addRow(rows, x[k], t, plan.label(), s.steered(), inputs, times, labels, controls);
                uncondRow[k] = s.guidance().classifierFree() ? rows : -1;
                if (uncondRow[k] >= 0) rows = addRow(rows, x[k], t, nullLabel, s.steered(), inputs, times, labels, controls);
                pertRow[k] = s.guidance().perturbs(t) ? rows : -1;
                if (pertRow[k] >= 0) rows = addRow(rows, x[k], t, plan.label(), s.perturbed(), inputs, times, labels, controls);
            }
            FloatBuffer velocity = graph.forward(rows, inputs, times, labels, controls);
            int row = 0;
            for (int k = 0; k < n; k++) {
                velocity.get(row++ * size, vC, 0, size);
                if (uncondRow[k] >= 0) velocity.get(row++ * size, vU, 0, size);
                if (pertRow[k] >= 0) velocity.get(row++ * size, vP, 0, size);
                settings[k].guidance().combine(t, vC, uncondRow[k] >= 0 ? vU : null, pertRow[k] >= 0 ? vP : null, v);
                FlowMatching.euler(x[k], 0, v, size, t, grid.to(step));
                observer.afterStep(step, k, x[k]);
            }
        }
        return x;
    }

    private int addRow(int row, float[] x, double t, long label, ControlRow control, float[] inputs, float[] times, long[] labels,
                       ControlBatch controls) {
        System.arraycopy(x, 0, inputs, row * size, size);
        times[row] = (float) t;
        labels[row] = label;
        controls.set(row, control);
        return row + 1;
    }
}
