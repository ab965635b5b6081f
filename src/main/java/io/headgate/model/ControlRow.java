package io.headgate.model;

import io.headgate.model.BundleManifest.Dimensions;



import java.util.Arrays;

/**
 * One row of head controls, dense and ready to copy into a batch: {@code gain} and {@code mix} are
 * [L, H], {@code bias} is [L, H, Dh], row-major. A profile compiles to one of these per revision.
 */
public record ControlRow(float[] gain, float[] bias, float[] mix) {

    public ControlRow {
        if (gain.length != mix.length || bias.length % Math.max(1, gain.length) != 0) {
            throw new IllegalArgumentException("control row lengths disagree: gain " + gain.length
                    + ", mix " + mix.length + ", bias " + bias.length);
        }
    }

    /** Gain 1, bias 0, mix 0: reproduces the un-steered graph bit for bit. */
    public static ControlRow identity(Dimensions d) {
        float[] gain = new float[d.layers() * d.heads()];
        Arrays.fill(gain, 1f);
        return new ControlRow(gain, new float[d.layers() * d.heads() * d.headDim()], new float[d.layers() * d.heads()]);
    }

    /** Whether this row is the identity (gain 1, bias 0, mix 0 everywhere), whatever made it. */
    public boolean isIdentity() {
        for (float g : gain) if (g != 1f) return false;
        for (float m : mix) if (m != 0f) return false;
        for (float b : bias) if (b != 0f) return false;
        return true;
    }

    public boolean fits(Dimensions d) {
        return gain.length == d.layers() * d.heads() && bias.length == d.layers() * d.heads() * d.headDim();
    }
}
