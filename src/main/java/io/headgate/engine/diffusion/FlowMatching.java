package io.headgate.engine.diffusion;

/**
 * The flow-matching sampler's arithmetic. Training interpolates {@code x_t = (1−t)·x0 + t·ε} and the
 * graph predicts the velocity {@code v = dx_t/dt = ε − x0}; sampling integrates from t = 1 (noise) to
 * t = 0 (image). Each method works on one image of {@code n} values at an offset, in place where it
 * says so; arithmetic is in double, stored as float.
 */
public final class FlowMatching {
    private FlowMatching() {
    }

    /** One Euler step in place: {@code x ← x + (tTo − tFrom)·v} (tTo < tFrom while denoising). */
    public static void euler(float[] x, int offset, float[] v, int n, double tFrom, double tTo) {
        double dt = tTo - tFrom;
        for (int i = 0; i < n; i++) x[offset + i] = (float) (x[offset + i] + dt * v[i]);
    }

    /**
     * The estimate of the clean image from x_t and the velocity: {@code x̂0 = x_t − t·v} (exact when v
     * is exact, since x_t − t·(ε − x0) = x0 under the interpolation above). Writes into {@code out}.
     */
    public static void x0Estimate(float[] x, int offset, float[] v, int n, double t, float[] out) {
        for (int i = 0; i < n; i++) out[i] = (float) (x[offset + i] - t * v[i]);
    }
}
