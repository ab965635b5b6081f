package io.headgate.discovery.directions;

import java.util.List;

/**
 * Contrasting labelled prompts, as token ids: the positive class (the behaviour a direction points
 * to) and the negative class. {@code source} says where they came from, for a profile's provenance.
 */
public record Contrast(String source, List<long[]> positive, List<long[]> negative) {

    /** Each class needs one prompt to fit on and one to validate on. */
    public static final int MIN_PER_CLASS = 2;

    public Contrast {
        if (positive.size() < MIN_PER_CLASS) throw new IllegalArgumentException("positive: " + positive.size() + " prompts; at least " + MIN_PER_CLASS);
        if (negative.size() < MIN_PER_CLASS) throw new IllegalArgumentException("negative: " + negative.size() + " prompts; at least " + MIN_PER_CLASS);
        positive = List.copyOf(positive);
        negative = List.copyOf(negative);
    }
}
