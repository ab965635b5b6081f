package io.headgate.engine.diffusion;

/** A finished image, [C, H, W] in the model's pixel range, with the label, seed and steps that made it. */
public record DiffusionResult(float[] image, long label, long seed, int steps) {
}
