package io.headgate.steer;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/** What an experiment compares: two or more arms (one once promoted), each a profile and a weight. */
public record ExperimentSpec(String description, List<Arm> arms) {

    private static final Pattern ARM_NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Pattern PROFILE_REF = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}(@[0-9]{1,18})?");

    public ExperimentSpec {
        description = description == null ? "" : description;
        arms = arms == null ? List.of() : List.copyOf(arms);
    }

    /**
     * Checks the arms; {@code promoted} allows a single arm (the result of a promotion).
     *
     * @throws ProfileException naming the offending field, e.g. "arms[1].weight"
     */
    public void validate(boolean promoted) {
        if (arms.size() < (promoted ? 1 : 2)) {
            throw new ProfileException("arms", promoted ? "at least one arm is required" : "an experiment needs at least 2 arms, got " + arms.size());
        }
        Set<String> names = new HashSet<>();
        for (int i = 0; i < arms.size(); i++) {
            Arm arm = arms.get(i);
            String at = "arms[" + i + "]";
            if (arm == null) throw new ProfileException(at, "null");
            if (arm.name() == null || !ARM_NAME.matcher(arm.name()).matches()) {
                throw new ProfileException(at + ".name", "must match [A-Za-z0-9._-]{1,64}, got '" + arm.name() + "'");
            }
            if (!names.add(arm.name())) throw new ProfileException(at + ".name", "duplicate arm name '" + arm.name() + "'");
            if (arm.profile() == null || !PROFILE_REF.matcher(arm.profile()).matches()) {
                throw new ProfileException(at + ".profile", "must be a profile name or name@revision, got '" + arm.profile() + "'");
            }
            if (!Double.isFinite(arm.weight()) || arm.weight() <= 0) {
                throw new ProfileException(at + ".weight", "must be finite and > 0, got " + arm.weight());
            }
        }
    }

    /** The arm called {@code name}, or null. */
    public Arm arm(String name) {
        for (Arm arm : arms) if (arm.name().equals(name)) return arm;
        return null;
    }
}
