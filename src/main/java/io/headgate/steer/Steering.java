package io.headgate.steer;

import io.headgate.model.ControlRow;
/**
 * A resolved steering: what events are tagged with, the compiled control row every step copies,
 * the profile name the stream follows (null when pinned, inline or identity), and the guidance scales
 * the profile sets for a diffusion model (null when none).
 */
public record Steering(SteeringTag tag, ControlRow row, String follows, GuidanceSpec guidance) {
    public Steering {
        if (tag == null || row == null) throw new IllegalArgumentException("steering needs a tag and a row");
    }

    public Steering(SteeringTag tag, ControlRow row, String follows) {
        this(tag, row, follows, null);
    }

    /** The label metrics use: the profile name, with every inline profile sharing "inline". */
    public String metricLabel() {
        return tag.profile();
    }
}
