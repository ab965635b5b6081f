package io.headgate.steer;

/**
 * Multiplies one head's output: {@code z ← gain·z} (1 leaves it, 0 ablates it, −1 flips it).
 * {@code layer} or {@code head} −1 means every layer or every head; {@link ProfileValidator} checks the
 * ranges, since they depend on the model.
 */
public record HeadGain(int layer, int head, float gain) {
}
