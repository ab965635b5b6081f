package io.headgate.steer;

/**
 * Names the steering an event was computed under: a profile and its revision. The built-in
 * {@code identity} has revision 0; inline steering is named {@code inline}, numbered per stream.
 */
public record SteeringTag(String profile, long revision) {
    public static final SteeringTag IDENTITY = new SteeringTag(SteeringResolver.IDENTITY, 0);

    @Override
    public String toString() {
        return profile + "@" + revision;
    }
}
