package io.headgate.discovery.search;

import io.headgate.steer.GuidanceSpec;
import io.headgate.steer.HeadGain;
import io.headgate.steer.HeadMix;
import io.headgate.steer.ProfileSpec;

import java.util.Collection;
import java.util.List;

/**
 * What a search does to the units it selects: scale their output by a gain (c &gt; 1 boosts as in
 * RASteer, 0 prunes) or mix their attention toward the identity by u (PAG at 1, SoftPAG below; on a
 * diffusion model it acts in the perturbed row, under {@code guidance}'s scales).
 *
 * @param guidance the guidance scales every candidate profile carries (diffusion models only; null: none)
 */
public record Intervention(Kind kind, float strength, GuidanceSpec guidance) {

    public enum Kind { GAIN, MIX }

    public Intervention {
        if (!Float.isFinite(strength)) throw new IllegalArgumentException("the intervention's strength must be finite");
    }

    public Intervention withStrength(float s) {
        return new Intervention(kind, s, guidance);
    }

    /** The profile that applies this intervention to {@code units} (the identity, plus guidance, when there are none). */
    public ProfileSpec profile(Collection<Unit> units, String description) {
        List<HeadGain> gains = kind == Kind.GAIN ? units.stream().map(u -> new HeadGain(u.layer(), u.head(), strength)).toList() : List.of();
        List<HeadMix> mixes = kind == Kind.MIX ? units.stream().map(u -> new HeadMix(u.layer(), u.head(), strength)).toList() : List.of();
        return new ProfileSpec(description, gains, List.of(), mixes, guidance);
    }

    @Override
    public String toString() {
        String what = kind == Kind.GAIN ? (strength == 0 ? "prune (gain 0)" : "gain " + strength) : "attention mix " + strength;
        return guidance == null ? what : what + " under " + guidance;
    }
}
