package io.headgate.steer;

import java.time.Instant;
import java.util.List;

/**
 * One revision as the registry writes it to {@code <model>/<name>/<revision>.json}. The file repeats
 * its own model, name and revision so a file moved or copied to the wrong place is caught on load.
 * A diffusion profile's guidance scales are kept (absent in files written before they existed).
 * A deletion is a revision too (flagged, with empty interventions), which keeps numbering monotonic.
 */
record StoredRevision(
        String model,
        String name,
        long revision,
        String createdAt,
        boolean deleted,
        String description,
        List<HeadGain> gains,
        List<HeadBias> biases,
        List<HeadMix> mixes,
        GuidanceSpec guidance) {

    static StoredRevision of(Profile p) {
        ProfileSpec spec = p.deleted() ? new ProfileSpec("", null, null, null) : p.spec();
        return new StoredRevision(p.model(), p.name(), p.revision(), p.createdAt().toString(), p.deleted(),
                spec.description(), spec.gains(), spec.biases(), spec.mixes(), spec.guidance());
    }

    /** The profile this revision holds; its spec is null for a deletion. */
    Profile toProfile() {
        ProfileSpec spec = deleted ? null : new ProfileSpec(description, gains, biases, mixes, guidance);
        return new Profile(model, name, revision, spec, Instant.parse(createdAt));
    }
}
