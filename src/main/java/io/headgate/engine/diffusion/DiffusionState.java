package io.headgate.engine.diffusion;

import io.headgate.model.ControlRow;
import io.headgate.steer.GuidanceSpec;
import io.headgate.steer.Steering;

/**
 * One image being denoised inside the workload: its x_t, where it is on the time grid, the guidance
 * it asked for, and its rows in the last forward pass. Made on the caller's thread by
 * {@link DiffusionWorkload#open}, then touched only by the scheduler's thread.
 */
public final class DiffusionState {
    final DiffusionRequest request;
    final TimeGrid grid;
    final float[] x;
    final GuidanceSpec asked;   // the request's guidance over the model's defaults
    int step;
    // the last forward pass
    int conditionalRow = -1, unconditionalRow = -1, perturbedRow = -1;
    Guidance applied;
    // the steering's controls without its mixes, for the conditional and unconditional rows
    private ControlRow baseOf, base;
    private boolean mixes;

    DiffusionState(DiffusionRequest request, float[] noise, GuidanceSpec defaults) {
        this.request = request;
        this.grid = new TimeGrid(request.steps());
        this.x = noise;
        this.asked = request.guidance() == null ? defaults : request.guidance().over(defaults);
    }

    /** The rows one step needs at first: what admitting the stream costs. */
    int rowsAtFirstStep() {
        Guidance g = guidance(null);
        return 1 + (g.classifierFree() ? 1 : 0) + (g.perturbs(1.0) ? 1 : 0);
    }

    /** The scales in effect under {@code steering}: its profile's where set, else the request's, else the model's. */
    Guidance guidance(Steering steering) {
        GuidanceSpec g = steering == null || steering.guidance() == null ? asked : steering.guidance().over(asked);
        return new Guidance(g.cfgScale(), g.perturbationScale(), g.adaptiveScale());
    }

    /**
     * The controls of the conditional and unconditional rows: the steering's gains and biases
     * without its attention-identity mixes, which belong to the perturbed row only.
     */
    ControlRow base(ControlRow steered) {
        if (steered != baseOf) {
            baseOf = steered;
            mixes = false;
            for (float u : steered.mix()) mixes |= u != 0f;
            base = mixes ? new ControlRow(steered.gain(), steered.bias(), new float[steered.mix().length]) : steered;
        }
        return base;
    }

    /** Whether the last {@link #base} steering perturbs any head: without mixes the perturbed row would equal the conditional one. */
    boolean perturbsHeads() {
        return mixes;
    }

    public long label() {
        return request.label();
    }
}
