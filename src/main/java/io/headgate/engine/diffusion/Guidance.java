package io.headgate.engine.diffusion;

/**
 * How one denoising step combines its rows' velocities, as diffusers' perturbed-attention-guidance
 * pipelines do ({@code pag_utils.py}): with classifier-free guidance
 * {@code v = v_u + w·(v_c − v_u) + s_t·(v_c − v_p)}, without it {@code v = v_c + s_t·(v_c − v_p)}, where
 * v_c is the conditional row (the null label for unconditional generation), v_u the unconditional row
 * and v_p the perturbed row (the conditional input with the steering's {@code attn_identity_mix}).
 * Classifier-free guidance is on when {@code w > 1}, as in those pipelines; perturbation guidance when
 * {@code s_t > 0}. (diffusers' newer modular guider computes {@code v_p + s·(v_c − v_p)} without CFG: its
 * s is this s + 1.)
 * <p>
 * Adaptive scale, on diffusers' timestep scale of 0–1000 (t = 1 here is 1000 there):
 * {@code s_t = max(0, s − s_adaptive·(1000 − 1000·t))}, so the perturbation fades as the image forms.
 *
 * @param cfgScale          w, classifier-free guidance scale; ≤ 1 turns it off
 * @param perturbationScale s, perturbation guidance scale; 0 turns it off
 * @param adaptiveScale     s_adaptive, per unit of diffusers' 0–1000 timestep; 0 keeps s constant
 */
public record Guidance(double cfgScale, double perturbationScale, double adaptiveScale) {

    public static final Guidance NONE = new Guidance(1, 0, 0);

    public Guidance {
        check("cfgScale", cfgScale);
        check("perturbationScale", perturbationScale);
        check("adaptiveScale", adaptiveScale);
    }

    private static void check(String field, double value) {
        if (!Double.isFinite(value) || value < 0) throw new IllegalArgumentException(field + " must be finite and >= 0, not " + value);
    }

    /** Whether a step needs the unconditional row. */
    public boolean classifierFree() {
        return cfgScale > 1;
    }

    /** s_t at time t in [0, 1]. */
    public double perturbationScaleAt(double t) {
        return Math.max(0, perturbationScale - adaptiveScale * (1000 - 1000 * t));
    }

    /** Whether the step at time t needs the perturbed row. */
    public boolean perturbs(double t) {
        return perturbationScaleAt(t) > 0;
    }

    /**
     * The guided velocity of one image at time t into {@code out}. {@code vU} must be given exactly when
     * {@link #classifierFree()}, {@code vP} exactly when {@link #perturbs(double) perturbs(t)}; all hold
     * {@code out.length} values.
     */
    public void combine(double t, float[] vC, float[] vU, float[] vP, float[] out) {
        if ((vU != null) != classifierFree()) {
            throw new IllegalArgumentException(classifierFree() ? "cfgScale " + cfgScale + " needs the unconditional velocity" : "no unconditional velocity expected");
        }
        double s = perturbationScaleAt(t);
        if ((vP != null) != (s > 0)) {
            throw new IllegalArgumentException(s > 0 ? "perturbation scale " + s + " needs the perturbed velocity" : "no perturbed velocity expected at t = " + t);
        }
        double w = cfgScale;
        for (int i = 0; i < out.length; i++) {
            double c = vC[i];
            double v = vU == null ? c : vU[i] + w * (c - vU[i]);
            if (vP != null) v += s * (c - vP[i]);
            out[i] = (float) v;
        }
    }
}
