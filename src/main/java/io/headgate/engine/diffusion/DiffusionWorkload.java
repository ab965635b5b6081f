package io.headgate.engine.diffusion;

import io.headgate.engine.Batch;
import io.headgate.engine.Kind;
import io.headgate.engine.Stream;
import io.headgate.engine.Workload;
import io.headgate.model.BundleManifest;
import io.headgate.model.ControlRow;
import io.headgate.model.diffusion.DiffusionGraph;
import io.headgate.steer.GuidanceSpec;

import java.nio.FloatBuffer;

/**
 * Images from a diffusion transformer trained with flow matching, one Euler step per engine step.
 * Each stream owns up to three rows of a step: conditional (its label, or the null label for an
 * unconditional image), unconditional (the null label; when classifier-free guidance is on) and
 * perturbed (the conditional input with the steering's attention-identity mixes; when perturbation
 * guidance is on at this time and the steering mixes any head). The conditional and unconditional
 * rows run under the steering's gains and biases, the perturbed row under all of its controls. The
 * velocities are combined by the stream's guidance — its profile's scales where set, else its
 * request's, else the model's — and x_t takes an Euler step. Every stream's rows share one forward
 * pass; a steering change applies from the next step.
 */
public final class DiffusionWorkload implements Workload<DiffusionState, Void, DenoisingStep, DiffusionResult> {

    public static final Kind KIND = new Kind(BundleManifest.DIFFUSION, new Kind.Phases("admit", "denoise", "recompute"),
            new Kind.OutputMeters("headgate.time.to.first.step", "headgate.inter.step.latency", "headgate.denoising.steps", "denoising step"));
    static final int ROWS_PER_STREAM = 3;

    private final DiffusionGraph graph;
    private final BundleManifest.Diffusion spec;
    private final int slots;
    private final int size;
    private final long nullLabel;
    private final GuidanceSpec defaults;
    private final DiffusionMeters meters;
    // one step's inputs, row by row, and its velocities
    private final float[] inputs, times;
    private final long[] labels;
    private FloatBuffer velocity;
    private final float[] vC, vU, vP, v;

    public DiffusionWorkload(DiffusionGraph graph, int slots, DiffusionMeters meters) {
        BundleManifest m = graph.manifest();
        if (!m.steerable()) throw new IllegalArgumentException("bundle " + m.name() + " has no control inputs");
        this.graph = graph;
        this.spec = m.diffusion();
        this.slots = slots;
        this.size = graph.imageSize();
        this.nullLabel = spec.nullLabel();
        this.defaults = new GuidanceSpec(spec.defaultCfgScale(), spec.defaultPerturbationScale(), 0f);
        this.meters = meters;
        this.inputs = new float[slots * ROWS_PER_STREAM * size];
        this.times = new float[slots * ROWS_PER_STREAM];
        this.labels = new long[slots * ROWS_PER_STREAM];
        this.vC = new float[size];
        this.vU = new float[size];
        this.vP = new float[size];
        this.v = new float[size];
    }

    public BundleManifest manifest() {
        return graph.manifest();
    }

    /** A stream's state for {@link io.headgate.engine.Scheduler#submit}: made on the caller's thread. */
    public DiffusionState open(DiffusionRequest request) {
        if (request.label() < 0 || request.label() > nullLabel) {
            throw new IllegalArgumentException("label " + request.label() + " is outside 0.." + (nullLabel - 1) + " (or " + nullLabel + ", unconditional)");
        }
        if (request.steps() > spec.maxSteps()) throw new IllegalArgumentException(request.steps() + " steps exceed the model's " + spec.maxSteps());
        return open(request, Noise.gaussian(request.seed(), size));
    }

    /** As {@link #open(DiffusionRequest)}, from given initial noise (a test replaying another sampler's). */
    DiffusionState open(DiffusionRequest request, float[] noise) {
        if (noise.length != size) throw new IllegalArgumentException("noise holds " + noise.length + " values; an image has " + size);
        return new DiffusionState(request, noise.clone(), defaults);
    }

    @Override
    public Kind kind() {
        return KIND;
    }

    @Override
    public BundleManifest.Dimensions dimensions() {
        return graph.manifest().dimensions();
    }

    @Override
    public int slots() {
        return slots;
    }

    @Override
    public int maxRows() {
        return slots * ROWS_PER_STREAM;
    }

    @Override
    public int cost(DiffusionState state) {
        return state.rowsAtFirstStep();
    }

    /** Nothing to compute: the image starts as its seed's noise. */
    @Override
    public void admit(Stream<DiffusionState, DenoisingStep, DiffusionResult> stream) {
    }

    @Override
    public void forward(Batch<DiffusionState, DenoisingStep, DiffusionResult> batch) throws Exception {
        for (var s : batch.streams()) {
            DiffusionState st = s.state();
            double t = st.grid.from(st.step);
            ControlRow steered = s.steering().row(), base = st.base(steered);
            Guidance g = st.guidance(s.steering());
            // without a mixed head the perturbed row would repeat the conditional one: its guidance term is 0
            if (!st.perturbsHeads()) g = new Guidance(g.cfgScale(), 0, 0);
            st.applied = g;
            st.conditionalRow = feed(batch, s, base, st.x, t, st.label());
            st.unconditionalRow = g.classifierFree() ? feed(batch, s, base, st.x, t, nullLabel) : -1;
            st.perturbedRow = g.perturbs(t) ? feed(batch, s, steered, st.x, t, st.label()) : -1;
        }
        velocity = graph.forward(batch.rows(), inputs, times, labels, batch.controls());
    }

    private int feed(Batch<DiffusionState, DenoisingStep, DiffusionResult> batch, Stream<DiffusionState, DenoisingStep, DiffusionResult> owner,
                     ControlRow control, float[] x, double t, long label) {
        int row = batch.add(owner, control);
        System.arraycopy(x, 0, inputs, row * size, size);
        times[row] = (float) t;
        labels[row] = label;
        return row;
    }

    /** Combines the stream's velocities, takes the Euler step, emits it (with a preview when due) and finishes the image after its last step. */
    @Override
    public void collect(Stream<DiffusionState, DenoisingStep, DiffusionResult> stream, Batch<DiffusionState, DenoisingStep, DiffusionResult> batch) {
        DiffusionState st = stream.state();
        double t = st.grid.from(st.step), tNext = st.grid.to(st.step);
        velocity.get(st.conditionalRow * size, vC, 0, size);
        if (st.unconditionalRow >= 0) velocity.get(st.unconditionalRow * size, vU, 0, size);
        if (st.perturbedRow >= 0) velocity.get(st.perturbedRow * size, vP, 0, size);
        st.applied.combine(t, vC, st.unconditionalRow >= 0 ? vU : null, st.perturbedRow >= 0 ? vP : null, v);
        int every = st.request.previewEvery();
        boolean last = st.step + 1 == st.grid.steps();
        DenoisingStep.Preview preview = null;
        if (every > 0 && (st.step + 1) % every == 0 && !last && st.request.previewX0()) {
            float[] x0 = new float[size];
            FlowMatching.x0Estimate(st.x, 0, v, size, t, x0);
            preview = new DenoisingStep.Preview(x0, true);
        }
        FlowMatching.euler(st.x, 0, v, size, t, tNext);
        if (every > 0 && (st.step + 1) % every == 0 && !last && !st.request.previewX0()) preview = new DenoisingStep.Preview(st.x.clone(), false);
        int rows = 1 + (st.unconditionalRow >= 0 ? 1 : 0) + (st.perturbedRow >= 0 ? 1 : 0);
        Guidance g = st.applied;
        stream.emitOutput(new DenoisingStep(st.step, st.grid.steps(), t, tNext,
                new Guidance(g.cfgScale(), g.perturbationScaleAt(t), g.adaptiveScale()), stream.steering().tag(), rows, preview));
        st.step++;
        if (last) {
            if (!stream.background()) meters.image(stream.steering().metricLabel(), stream.arm());
            stream.finish(new DiffusionResult(st.x.clone(), st.label(), st.request.seed(), st.grid.steps()));
        }
    }

    @Override
    public void swap(int a, int b, Stream<DiffusionState, DenoisingStep, DiffusionResult> inA, Stream<DiffusionState, DenoisingStep, DiffusionResult> inB) {
        // nothing lives in a slot: the image is the stream's own
    }

    @Override
    public void move(int from, int to, Stream<DiffusionState, DenoisingStep, DiffusionResult> stream) {
    }

    @Override
    public void release(Stream<DiffusionState, DenoisingStep, DiffusionResult> stream, int slot) {
    }

    @Override
    public void close() throws Exception {
        graph.close();
    }
}
