package io.headgate.steer;

/**
 * Guidance scales a profile of a diffusion model may carry, so that they change mid-stream with the
 * profile: classifier-free guidance {@code w}, perturbation guidance {@code s} and its adaptive
 * decay. A field left null keeps what the stream would use otherwise (its Start, then the model's
 * default).
 */
public record GuidanceSpec(Float cfgScale, Float perturbationScale, Float adaptiveScale) {

    /** The largest scale a profile or request may set: far beyond any useful value, short of overflow. */
    public static final float MAX_SCALE = 100f;

    /** Checks every set scale is finite and in [0, {@value #MAX_SCALE}], naming the field under {@code at}. */
    public void validate(String at) {
        check(at + ".cfg_scale", cfgScale);
        check(at + ".perturbation_scale", perturbationScale);
        check(at + ".adaptive_scale", adaptiveScale);
    }

    private static void check(String field, Float value) {
        if (value == null) return;
        if (!(value >= 0f && value <= MAX_SCALE)) { // NaN fails too
            throw new ProfileException(field, value + " is out of range; allowed: 0 to " + MAX_SCALE);
        }
    }

    /** This spec's scales where set, {@code fallback}'s elsewhere. */
    public GuidanceSpec over(GuidanceSpec fallback) {
        if (fallback == null) return this;
        return new GuidanceSpec(cfgScale != null ? cfgScale : fallback.cfgScale,
                perturbationScale != null ? perturbationScale : fallback.perturbationScale,
                adaptiveScale != null ? adaptiveScale : fallback.adaptiveScale);
    }
}
