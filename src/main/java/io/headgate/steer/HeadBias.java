package io.headgate.steer;

import java.util.Arrays;

/**
 * Adds a vector to one head's output: {@code z ← z + vector}, one value per head dimension.
 * {@code layer} or {@code head} −1 means every layer or every head.
 *
 * <p>The vector is copied in and out so a stored profile cannot be changed behind the registry's back;
 * equality compares the values, as it does for the other interventions.
 */
public record HeadBias(int layer, int head, float[] vector) {

    public HeadBias {
        // a missing vector becomes empty, so the validator reports it as a length error with its path
        vector = vector == null ? new float[0] : vector.clone();
    }

    @Override
    public float[] vector() {
        return vector.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HeadBias b && layer == b.layer && head == b.head && Arrays.equals(vector, b.vector);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * layer + head) + Arrays.hashCode(vector);
    }

    @Override
    public String toString() {
        return "HeadBias[layer=" + layer + ", head=" + head + ", vector=" + Arrays.toString(vector) + "]";
    }
}
