package io.headgate.model.diffusion;

import java.util.List;

/**
 * Names of the inputs and outputs of a diffusion bundle's graphs besides the head controls
 * ({@link io.headgate.model.GraphContract}). Shapes use B rows and images of C channels × H × W.
 * The denoiser is trained with flow matching: {@code x_t = (1−t)·x0 + t·ε}, velocity {@code ε − x0}.
 */
public final class DiffusionContract {
    private DiffusionContract() {
    }

    /** float [B, C, H, W]: the noisy image at time t. */
    public static final String X_T = "x_t";
    /** float [B]: time in [0, 1], 1 being pure noise. */
    public static final String T = "t";
    /** int64 [B]: the class, 0..classes−1, or {@code classes} (the null label) for an unconditional prediction. */
    public static final String CLASS_LABEL = "class_label";
    /** float [B, C, H, W]: the predicted velocity ε − x0. */
    public static final String VELOCITY = "velocity";
    public static final List<String> DENOISER_INPUTS = List.of(X_T, T, CLASS_LABEL);

    // The quality classifier (BundleManifest.Diffusion#classifier)
    /** float [B, C, H, W]: images in the model's pixel range. */
    public static final String IMAGE = "image";
    /** float [B, classes]. */
    public static final String LOGITS = "logits";
    /** float [B, F]: the feature vector whose statistics the Fréchet distance compares. */
    public static final String FEATURES = "features";
}
