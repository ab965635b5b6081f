package io.headgate.discovery.directions;

import io.headgate.steer.ProfileSpec;

import java.util.List;

/**
 * A finished directions run: every head's direction table, the heads chosen (head indices, best
 * first), the suggested {@code head_bias} profile, and how many prompts of each class were fitted
 * on and validated on.
 */
public record DirectionsReport(String model, HeadDirections directions, List<Integer> chosen, ProfileSpec profile,
                               int trainPositive, int trainNegative, int validationPositive, int validationNegative) {
    public DirectionsReport {
        chosen = List.copyOf(chosen);
    }
}
