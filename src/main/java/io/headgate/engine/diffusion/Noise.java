package io.headgate.engine.diffusion;

import java.util.SplittableRandom;

/**
 * Seeded standard Gaussian noise, the same on every JDK: {@code new SplittableRandom(seed).nextLong()}
 * (SplitMix64 with the golden-ratio gamma, whose output the class has produced unchanged since Java 8)
 * gives pairs of uniforms {@code u = (nextLong >>> 11) · 2⁻⁵³} in [0, 1), and the Box–Muller transform
 * turns each pair into two normals, {@code r·cos(2πu₂)} then {@code r·sin(2πu₂)} with
 * {@code r = sqrt(−2·ln(1 − u₁))}, in StrictMath (fdlibm: bit-identical everywhere). Values are then
 * rounded to float. {@code SplittableRandom.nextGaussian} is not used: its algorithm is not specified.
 */
public final class Noise {
    private Noise() {
    }

    /** {@code count} normals from {@code seed}. */
    public static float[] gaussian(long seed, int count) {
        if (count < 0) throw new IllegalArgumentException("count must be >= 0, not " + count);
        SplittableRandom random = new SplittableRandom(seed);
        float[] out = new float[count];
        for (int i = 0; i < count; i += 2) {
            double u1 = (random.nextLong() >>> 11) * 0x1.0p-53;
            double u2 = (random.nextLong() >>> 11) * 0x1.0p-53;
            double r = StrictMath.sqrt(-2 * StrictMath.log(1 - u1));
            double angle = 2 * StrictMath.PI * u2;
            out[i] = (float) (r * StrictMath.cos(angle));
            if (i + 1 < count) out[i + 1] = (float) (r * StrictMath.sin(angle));
        }
        return out;
    }
}
