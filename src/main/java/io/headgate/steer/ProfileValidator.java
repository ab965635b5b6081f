package io.headgate.steer;

import io.headgate.model.BundleManifest.Dimensions;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Checks a profile against the model it will steer, and names. Every rejection names the field by its
 * path in the profile and says what would have been accepted, because the client sees only that message.
 */
public final class ProfileValidator {

    /** Safe as a directory name on any filesystem and unambiguous in "name@revision". */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    /** The built-in profile's name: it has no stored revisions, so nothing may be stored under it. */
    public static final String IDENTITY_NAME = "identity";

    private ProfileValidator() {
    }

    /**
     * Checks every intervention against the model: layer in [-1, L), head in [-1, H), vector length Dh,
     * all values finite, |gain| ≤ maxMagnitude, every bias component |b| ≤ maxMagnitude, mix in [0, 1].
     */
    public static void validate(ProfileSpec spec, Dimensions dims, float maxMagnitude) {
        if (spec == null) throw new ProfileException("spec", "a profile needs a spec");
        if (!(maxMagnitude > 0)) throw new IllegalArgumentException("maxMagnitude must be positive: " + maxMagnitude);
        List<HeadGain> gains = spec.gains();
        for (int i = 0; i < gains.size(); i++) {
            HeadGain g = gains.get(i);
            String at = "gains[" + i + "]";
            checkHead(at, g.layer(), g.head(), dims);
            checkMagnitude(at + ".gain", "gain", g.gain(), maxMagnitude);
        }
        List<HeadBias> biases = spec.biases();
        for (int i = 0; i < biases.size(); i++) {
            HeadBias b = biases.get(i);
            String at = "biases[" + i + "]";
            checkHead(at, b.layer(), b.head(), dims);
            float[] vector = b.vector();
            if (vector.length != dims.headDim()) {
                throw new ProfileException(at + ".vector", "vector has " + vector.length
                        + " values; it needs one per head dimension, " + dims.headDim());
            }
            for (int d = 0; d < vector.length; d++) {
                checkMagnitude(at + ".vector", "component " + d, vector[d], maxMagnitude);
            }
        }
        if (spec.guidance() != null) spec.guidance().validate("guidance");
        List<HeadMix> mixes = spec.mixes();
        for (int i = 0; i < mixes.size(); i++) {
            HeadMix m = mixes.get(i);
            String at = "mixes[" + i + "]";
            checkHead(at, m.layer(), m.head(), dims);
            // written so that NaN fails too
            if (!(m.mix() >= 0f && m.mix() <= 1f)) {
                throw new ProfileException(at + ".mix", "mix " + m.mix() + " is out of range; allowed: 0 to 1");
            }
        }
    }

    /** Profile names: 1-64 characters of [A-Za-z0-9._-], starting with a letter or digit; "identity" is built in. */
    public static void validateName(String name) {
        checkName("name", "profile", name);
        if (IDENTITY_NAME.equals(name)) {
            throw new ProfileException("name", "'identity' is the built-in profile and cannot be stored");
        }
    }

    /** Model names follow the profile name rule (they are directory names in the registry too). */
    public static void validateModel(String model) {
        checkName("model", "model", model);
    }

    /** Whether a directory or key segment can be a model or profile name: anything else found in a store is not the registry's. */
    public static boolean isValidName(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    private static void checkName(String field, String what, String value) {
        if (value == null || !NAME.matcher(value).matches()) {
            throw new ProfileException(field, "invalid " + what + " name " + (value == null ? "null" : "'" + value + "'")
                    + "; allowed: 1-64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit");
        }
    }

    private static void checkHead(String at, int layer, int head, Dimensions dims) {
        if (layer < -1 || layer >= dims.layers()) {
            throw new ProfileException(at + ".layer", "layer " + layer + " is out of range; allowed: 0 to "
                    + (dims.layers() - 1) + ", or -1 for every layer");
        }
        if (head < -1 || head >= dims.heads()) {
            throw new ProfileException(at + ".head", "head " + head + " is out of range; allowed: 0 to "
                    + (dims.heads() - 1) + ", or -1 for every head");
        }
    }

    private static void checkMagnitude(String field, String what, float value, float maxMagnitude) {
        if (!Float.isFinite(value)) throw new ProfileException(field, what + " is " + value + "; it must be finite");
        if (Math.abs(value) > maxMagnitude) {
            throw new ProfileException(field, what + " " + value + " is out of range; allowed magnitude: at most " + maxMagnitude);
        }
    }
}
