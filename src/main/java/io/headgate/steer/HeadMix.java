package io.headgate.steer;

/**
 * Pulls one head's attention toward the identity: {@code z ← (1−mix)·z + mix·v_self}, mix in [0, 1]
 * (1 is PAG's perturbation). {@code layer} or {@code head} −1 means every layer or every head.
 */
public record HeadMix(int layer, int head, float mix) {
}
