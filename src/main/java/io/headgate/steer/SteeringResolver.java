package io.headgate.steer;

import io.headgate.model.ControlRow;
import io.headgate.model.BundleManifest.Dimensions;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns what a client asks for — {@code name}, {@code name@revision}, the built-in
 * {@code identity} or an inline spec — into a {@link Steering}. Stored revisions never change, so
 * each compiles once and every stream on it shares one control row.
 */
public final class SteeringResolver {

    public static final String IDENTITY = "identity";
    public static final String INLINE = "inline";

    private final ProfileRegistry registry;
    private final float maxMagnitude;
    private final Map<String, ControlRow> compiled = new ConcurrentHashMap<>();

    public SteeringResolver(ProfileRegistry registry, float maxMagnitude) {
        this.registry = registry;
        this.maxMagnitude = maxMagnitude;
    }

    public float maxMagnitude() {
        return maxMagnitude;
    }

    public Steering identity(String model, Dimensions dims) {
        return new Steering(SteeringTag.IDENTITY, compiled.computeIfAbsent(model + "/" + IDENTITY, k -> ControlRow.identity(dims)), null);
    }

    /**
     * @param reference "name" (the stream follows the name's new revisions) or "name@revision" (pinned)
     * @throws ProfileException      for a malformed reference (field "profile")
     * @throws UnknownProfileException when the profile or revision does not exist
     */
    public Steering profile(String model, Dimensions dims, String reference) {
        int at = reference.lastIndexOf('@');
        String name = at < 0 ? reference : reference.substring(0, at);
        if (name.equals(IDENTITY)) {
            if (at >= 0 && !reference.substring(at + 1).equals("0")) {
                throw new UnknownProfileException("the built-in profile 'identity' has only revision 0");
            }
            return identity(model, dims);
        }
        try {
            ProfileValidator.validateName(name);
        } catch (ProfileException e) {
            throw new ProfileException("profile", e.getMessage());
        }
        Profile profile;
        if (at < 0) {
            profile = registry.latest(model, name)
                    .orElseThrow(() -> new UnknownProfileException("no profile '" + name + "' for model '" + model + "'"));
        } else {
            long revision;
            try {
                revision = Long.parseLong(reference.substring(at + 1));
            } catch (NumberFormatException e) {
                throw new ProfileException("profile", "'" + reference + "' is not name@revision with a numeric revision");
            }
            profile = registry.revision(model, name, revision)
                    .orElseThrow(() -> new UnknownProfileException("profile '" + name + "' of model '" + model + "' has no revision " + revision));
        }
        return stored(profile, dims, at < 0);
    }

    /** A stored revision as a steering; {@code follow}: streams on it move to the name's new revisions. */
    public Steering stored(Profile profile, Dimensions dims, boolean follow) {
        ControlRow row = compiled.computeIfAbsent(profile.model() + "/" + profile.name() + "@" + profile.revision(), k -> {
            ProfileValidator.validate(profile.spec(), dims, maxMagnitude); // stored before the model changed shape?
            return ProfileCompiler.compile(profile.spec(), dims);
        });
        return new Steering(new SteeringTag(profile.name(), profile.revision()), row, follow ? profile.name() : null, profile.spec().guidance());
    }

    /** One-off controls from a request, numbered by the stream. */
    public Steering inline(ProfileSpec spec, Dimensions dims, long number) {
        ProfileValidator.validate(spec, dims, maxMagnitude);
        return new Steering(new SteeringTag(INLINE, number), ProfileCompiler.compile(spec, dims), null, spec.guidance());
    }
}
