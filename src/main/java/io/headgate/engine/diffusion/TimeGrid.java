package io.headgate.engine.diffusion;

/**
 * The sampler's time points for {@code steps} Euler steps: {@code t_i = 1 − i/steps}, i = 0..steps, from
 * pure noise (t = 1) to the image (t = 0). Step i evaluates the velocity at {@code t_i} and moves to
 * {@code t_{i+1}}. Times are doubles; the graph receives each {@code t_i} rounded to float.
 */
public record TimeGrid(int steps) {

    public TimeGrid {
        if (steps <= 0) throw new IllegalArgumentException("steps must be positive, not " + steps);
    }

    /** t_i, i in 0..steps. */
    public double t(int i) {
        if (i < 0 || i > steps) throw new IndexOutOfBoundsException("time index " + i + " outside 0.." + steps);
        return 1.0 - (double) i / steps;
    }

    /** Where step i starts. */
    public double from(int step) {
        return t(step);
    }

    /** Where step i ends. */
    public double to(int step) {
        return t(step + 1);
    }
}
