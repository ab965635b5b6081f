package io.headgate.discovery.directions;

/**
 * A directions run: the model, its contrast, the share of each class held out for validation and
 * the seed that draws it, and the profile to suggest — bias {@code alpha · spread · unit direction}
 * on the {@code top} heads by separability.
 */
public record DirectionsJob(String model, Contrast contrast, double validationFraction, long seed, int top, double alpha) {

    public static final double DEFAULT_VALIDATION_FRACTION = 0.25, DEFAULT_ALPHA = 8;
    public static final int DEFAULT_TOP = 8;

    public DirectionsJob {
        if (!(validationFraction > 0 && validationFraction < 1)) {
            throw new IllegalArgumentException("validationFraction must be in (0, 1), got " + validationFraction);
        }
        if (top < 1) throw new IllegalArgumentException("top must be at least 1, got " + top);
        if (!Double.isFinite(alpha) || alpha == 0) throw new IllegalArgumentException("alpha must be finite and not 0, got " + alpha);
    }
}
