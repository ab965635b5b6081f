package io.headgate.steer;

/**
 * One arm of an experiment: streams assigned to it run under {@code profile} ("name" follows the
 * profile's revisions, "name@revision" pins one); {@code weight} is its share relative to the others.
 */
public record Arm(String name, String profile, double weight) {
}
