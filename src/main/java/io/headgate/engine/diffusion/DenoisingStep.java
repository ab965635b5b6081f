package io.headgate.engine.diffusion;

import io.headgate.steer.SteeringTag;

/**
 * One denoising step of an image: where it ran from and to, the guidance and steering it was
 * computed under ({@code guidance} holds the perturbation scale in effect at {@code t}), the rows it
 * took, and a preview when one was due (null otherwise).
 */
public record DenoisingStep(int index, int total, double t, double tNext, Guidance guidance, SteeringTag steering, int rows,
                            Preview preview) {

    /** An image of the step: the clean-image estimate or x_t, [C, H, W] in the model's pixel range. */
    public record Preview(float[] values, boolean x0) {
    }
}
