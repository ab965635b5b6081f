package io.headgate.discovery.search;

/**
 * A skill a search must not hurt: a candidate whose guard measure on the development split is worse
 * than the baseline's by more than {@code tolerance} (in the measure's units) is not taken.
 */
public record Guard(String name, double tolerance) {
    public Guard {
        if (!(tolerance >= 0) || Double.isInfinite(tolerance)) throw new IllegalArgumentException("guard " + name + ": tolerance must be finite and >= 0");
    }
}
