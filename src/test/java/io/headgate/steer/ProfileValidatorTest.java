package io.headgate.steer;

import io.headgate.model.BundleManifest.Dimensions;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Each bad field is rejected with its path in the profile and the range that would have been accepted. */
class ProfileValidatorTest {

    /** parens-lm: 4 layers, 8 heads, 2 kv heads, head dim 16. */
    private static final Dimensions DIMS = new Dimensions(4, 8, 2, 16, 128, 23);
    private static final float MAX = 8f;

    @Test
    void acceptsEveryBoundary() {
        ProfileSpec spec = new ProfileSpec("edges",
                List.of(new HeadGain(-1, -1, 1f), new HeadGain(3, 7, -MAX), new HeadGain(0, 0, 0f)),
                List.of(new HeadBias(3, -1, filled(16, MAX))),
                List.of(new HeadMix(0, 7, 0f), new HeadMix(-1, 0, 1f)));
        assertThatCode(() -> ProfileValidator.validate(spec, DIMS, MAX)).doesNotThrowAnyException();
        assertThatCode(() -> ProfileValidator.validate(ProfileSpec.IDENTITY, DIMS, MAX)).doesNotThrowAnyException();
    }

    @Test
    void layerOutOfRangeNamesTheEntryAndTheRange() {
        ProfileSpec spec = gains(new HeadGain(0, 0, 1f), new HeadGain(4, 0, 1f));
        assertThatThrownBy(() -> ProfileValidator.validate(spec, DIMS, MAX))
                .isInstanceOfSatisfying(ProfileException.class, e -> assertThat(e.field()).isEqualTo("gains[1].layer"))
                .hasMessageContaining("4").hasMessageContaining("0 to 3").hasMessageContaining("-1");
    }

    @Test
    void headBelowMinusOne() {
        assertRejected(gains(new HeadGain(1, -2, 1f)), "gains[0].head", "0 to 7");
        assertRejected(mixes(new HeadMix(0, 8, 0.5f)), "mixes[0].head", "0 to 7");
        assertRejected(biases(new HeadBias(-2, 0, new float[16])), "biases[0].layer", "0 to 3");
    }

    @Test
    void biasVectorMustHaveHeadDimValues() {
        assertRejected(biases(new HeadBias(0, 0, new float[16]), new HeadBias(0, 1, new float[15])), "biases[1].vector", "16");
        assertRejected(biases(new HeadBias(0, 0, null)), "biases[0].vector", "16");
    }

    @Test
    void nonFiniteValuesAreRejected() {
        assertRejected(gains(new HeadGain(0, 0, Float.NaN)), "gains[0].gain", "finite");
        assertRejected(gains(new HeadGain(0, 0, Float.POSITIVE_INFINITY)), "gains[0].gain", "finite");
        float[] vector = new float[16];
        vector[5] = Float.NaN;
        assertRejected(biases(new HeadBias(0, 0, vector)), "biases[0].vector", "component 5");
        assertRejected(mixes(new HeadMix(0, 0, Float.NaN)), "mixes[0].mix", "0 to 1");
    }

    @Test
    void magnitudesAboveTheLimitAreRejected() {
        assertRejected(gains(new HeadGain(0, 0, -8.5f)), "gains[0].gain", "8.0");
        float[] vector = new float[16];
        vector[15] = 9f;
        assertRejected(biases(new HeadBias(2, 3, vector)), "biases[0].vector", "8.0");
    }

    @Test
    void mixOutsideZeroToOne() {
        assertRejected(mixes(new HeadMix(0, 0, 1.5f)), "mixes[0].mix", "0 to 1");
        assertRejected(mixes(new HeadMix(0, 0, -0.01f)), "mixes[0].mix", "0 to 1");
    }

    @Test
    void nullEntriesAreNamedWhenTheSpecIsBuilt() {
        assertThatThrownBy(() -> new ProfileSpec("", Arrays.asList(new HeadGain(0, 0, 1f), null), null, null))
                .isInstanceOfSatisfying(ProfileException.class, e -> assertThat(e.field()).isEqualTo("gains[1]"));
    }

    @Test
    void names() {
        for (String good : List.of("a", "boost-l3", "pag_l1.v2", "0day", "A".repeat(64))) {
            assertThatCode(() -> ProfileValidator.validateName(good)).as(good).doesNotThrowAnyException();
        }
        for (String bad : List.of("", "has space", "-leading", ".hidden", "..", "a/b", "boost@2", "é", "A".repeat(65))) {
            assertThatThrownBy(() -> ProfileValidator.validateName(bad)).as(bad)
                    .isInstanceOfSatisfying(ProfileException.class, e -> assertThat(e.field()).isEqualTo("name"));
        }
        assertThatThrownBy(() -> ProfileValidator.validateName(null)).isInstanceOf(ProfileException.class);
        assertThatThrownBy(() -> ProfileValidator.validateName("identity"))
                .isInstanceOfSatisfying(ProfileException.class, e -> assertThat(e.field()).isEqualTo("name"))
                .hasMessageContaining("built-in");
        assertThatThrownBy(() -> ProfileValidator.validateModel("../etc"))
                .isInstanceOfSatisfying(ProfileException.class, e -> assertThat(e.field()).isEqualTo("model"));
    }

    private static void assertRejected(ProfileSpec spec, String field, String messagePart) {
        assertThatThrownBy(() -> ProfileValidator.validate(spec, DIMS, MAX))
                .isInstanceOfSatisfying(ProfileException.class, e -> assertThat(e.field()).isEqualTo(field))
                .hasMessageContaining(messagePart);
    }

    private static ProfileSpec gains(HeadGain... gains) {
        return new ProfileSpec("", List.of(gains), null, null);
    }

    private static ProfileSpec biases(HeadBias... biases) {
        return new ProfileSpec("", null, List.of(biases), null);
    }

    private static ProfileSpec mixes(HeadMix... mixes) {
        return new ProfileSpec("", null, null, List.of(mixes));
    }

    private static float[] filled(int n, float value) {
        float[] v = new float[n];
        Arrays.fill(v, value);
        return v;
    }
}
