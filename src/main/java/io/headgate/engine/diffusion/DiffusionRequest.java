package io.headgate.engine.diffusion;

import io.headgate.steer.GuidanceSpec;

/**
 * A validated request for one image: its label (the model's null label for an unconditional image),
 * the seed of its initial noise, its number of steps, the guidance it asks for (fields left null take
 * the model's defaults; a profile's guidance overrides both), and how often to preview.
 *
 * @param previewEvery a preview every this many steps (0: none)
 * @param previewX0    preview the clean-image estimate {@code x_t − t·v} (true) or x_t itself
 */
public record DiffusionRequest(long label, long seed, int steps, GuidanceSpec guidance, int previewEvery, boolean previewX0) {
    public DiffusionRequest {
        if (steps <= 0) throw new IllegalArgumentException("steps must be positive, not " + steps);
        if (previewEvery < 0) throw new IllegalArgumentException("previewEvery must be >= 0, not " + previewEvery);
        if (guidance != null) guidance.validate("guidance");
    }
}
