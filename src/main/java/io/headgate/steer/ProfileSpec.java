package io.headgate.steer;

import java.util.ArrayList;
import java.util.List;

/**
 * A profile's interventions, applied in this order when compiled: gains, then biases, then mixes;
 * and, for diffusion models, guidance scales (null when the profile sets none). Ranges are checked
 * against a model by {@link ProfileValidator}; this record only guarantees that the lists exist, are
 * immutable and hold no nulls.
 */
public record ProfileSpec(String description, List<HeadGain> gains, List<HeadBias> biases, List<HeadMix> mixes, GuidanceSpec guidance) {

    /** The built-in profile every stream starts with: every head unchanged. */
    public static final ProfileSpec IDENTITY = new ProfileSpec("identity: every head unchanged", List.of(), List.of(), List.of());

    public ProfileSpec(String description, List<HeadGain> gains, List<HeadBias> biases, List<HeadMix> mixes) {
        this(description, gains, biases, mixes, null);
    }

    public ProfileSpec {
        description = description == null ? "" : description;
        gains = copy("gains", gains);
        biases = copy("biases", biases);
        mixes = copy("mixes", mixes);
    }

    private static <T> List<T> copy(String field, List<T> items) {
        if (items == null) return List.of();
        // List.copyOf would reject a null with a bare NullPointerException; say which entry it is instead
        List<T> copy = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            T item = items.get(i);
            if (item == null) throw new ProfileException(field + "[" + i + "]", "entry is empty");
            copy.add(item);
        }
        return List.copyOf(copy);
    }
}
