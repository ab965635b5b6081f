package io.headgate.discovery.directions;

import io.headgate.steer.HeadBias;
import io.headgate.steer.ProfileSpec;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Directions on planted head outputs (2 layers × 3 heads × 4 dims) whose answers are worked out by
 * hand: head 4 (layer 1, head 1) separates the classes on held-out examples too; head 0 separates
 * the training examples as cleanly but not the validation ones; head 2 less cleanly, and not the
 * validation ones either; heads 1, 3 and 5 are the same in every example.
 */
class HeadDirectionsTest {

    static final int LAYERS = 2, HEADS = 3, DIM = 4;
    static final double EXACT = 1e-12;

    /** One example: the given heads' outputs, every other head (7, 7, 7, 7). */
    static float[] example(Map<Integer, float[]> heads) {
        float[] out = new float[LAYERS * HEADS * DIM];
        java.util.Arrays.fill(out, 7f);
        heads.forEach((h, v) -> System.arraycopy(v, 0, out, h * DIM, DIM));
        return out;
    }

    static float[] v(float... values) {
        return values;
    }

    static final List<float[]> TRAIN_POSITIVE = List.of(
            example(Map.of(4, v(1, 2, 1, 0), 0, v(0, 10, 0, 0), 2, v(1, 0, 0, 0))),
            example(Map.of(4, v(1, 2, -1, 0), 0, v(0, 10, 0, 0), 2, v(3, 0, 0, 0))));
    static final List<float[]> TRAIN_NEGATIVE = List.of(
            example(Map.of(4, v(-2, -2, 0, 1), 0, v(0, -10, 0, 0), 2, v(-1, 0, 0, 0))),
            example(Map.of(4, v(-2, -2, 0, -1), 0, v(0, -10, 0, 0), 2, v(-3, 0, 0, 0))));
    static final List<float[]> VALIDATION_POSITIVE = List.of(
            example(Map.of(4, v(1, 2, 5, 5), 0, v(0, 5, 0, 0), 2, v(5, 0, 0, 0))),
            example(Map.of(4, v(0, 1, 0, 0), 0, v(0, -5, 0, 0), 2, v(-1, 0, 0, 0))));
    static final List<float[]> VALIDATION_NEGATIVE = List.of(
            example(Map.of(4, v(-1, -1, 0, 0), 0, v(0, -5, 0, 0), 2, v(-2, 0, 0, 0))),
            example(Map.of(4, v(-1, 0, 9, 9), 0, v(0, -1, 0, 0), 2, v(0, 0, 0, 0))));

    static HeadDirections planted() {
        return HeadDirections.fit(LAYERS, HEADS, DIM, TRAIN_POSITIVE, TRAIN_NEGATIVE, VALIDATION_POSITIVE, VALIDATION_NEGATIVE);
    }

    @Test
    void theHeadThatSeparatesHeldOutExamplesRanksFirst() {
        HeadDirections d = planted();
        // validation: head 4 1.0; heads 0 and 2 0.75 (one positive missed), head 0 ahead on separation 2 > 4/√5
        assertThat(d.ranking()).containsExactly(4, 0, 2, 1, 3, 5);
        assertThat(d.separability()).containsExactly(new double[]{0.75, 0.5, 0.75, 0.5, 1.0, 0.5}, within(EXACT));
    }

    @Test
    void directionSpreadAndSeparationAreExact() {
        HeadDirections d = planted();
        // head 4: class means (1, 2, 0, 0) and (-2, -2, 0, 0); difference (3, 4, 0, 0), length 5;
        // projections 2.2, 2.2, -2.8, -2.8 around -0.3: spread 2.5, separation 5 / 2.5
        assertThat(d.unit()[4]).containsExactly(new double[]{0.6, 0.8, 0, 0}, within(EXACT));
        assertThat(d.spread()[4]).isCloseTo(2.5, within(1e-9));
        assertThat(d.separation()[4]).isCloseTo(2.0, within(1e-9));
        // head 2: means (2, 0, 0, 0) and (-2, 0, 0, 0); projections 1, 3, -1, -3: spread √5
        assertThat(d.unit()[2]).containsExactly(new double[]{1, 0, 0, 0}, within(EXACT));
        assertThat(d.spread()[2]).isCloseTo(Math.sqrt(5), within(1e-9));
        assertThat(d.separation()[2]).isCloseTo(4 / Math.sqrt(5), within(1e-9));
        // head 0: projections 10, 10, -10, -10
        assertThat(d.spread()[0]).isCloseTo(10, within(1e-9));
        // the same in both classes: no direction, no spread, chance
        for (int h : new int[]{1, 3, 5}) {
            assertThat(d.unit()[h]).containsOnly(0.0);
            assertThat(d.spread()[h]).isZero();
            assertThat(d.separation()[h]).isZero();
        }
    }

    @Test
    void theProfileBiasesTheChosenHeadsByAlphaTimesSpreadAlongTheUnitDirection() {
        ProfileSpec spec = planted().profile(List.of(4, 0), 2.0, "planted");
        assertThat(spec.description()).isEqualTo("planted");
        assertThat(spec.gains()).isEmpty();
        assertThat(spec.mixes()).isEmpty();
        assertThat(spec.biases()).hasSize(2);
        HeadBias first = spec.biases().get(0), second = spec.biases().get(1);
        // 2 · 2.5 · (0.6, 0.8, 0, 0) on layer 1 head 1; 2 · 10 · (0, 1, 0, 0) on layer 0 head 0
        assertThat(first.layer()).isEqualTo(1);
        assertThat(first.head()).isEqualTo(1);
        assertThat(first.vector()).containsExactly(new float[]{3, 4, 0, 0}, within(1e-5f));
        assertThat(second.layer()).isZero();
        assertThat(second.head()).isZero();
        assertThat(second.vector()).containsExactly(new float[]{0, 20, 0, 0}, within(1e-5f));
        // a negative alpha points to the negative class
        assertThat(planted().profile(List.of(4), -1.0, "").biases().getFirst().vector()).containsExactly(new float[]{-1.5f, -2, 0, 0}, within(1e-5f));
    }

    @Test
    void fittingNeedsBothClassesAndWholeExamples() {
        assertThatThrownBy(() -> HeadDirections.fit(LAYERS, HEADS, DIM, List.of(), TRAIN_NEGATIVE, VALIDATION_POSITIVE, VALIDATION_NEGATIVE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("training");
        assertThatThrownBy(() -> HeadDirections.fit(LAYERS, HEADS, DIM, TRAIN_POSITIVE, TRAIN_NEGATIVE, VALIDATION_POSITIVE, List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("validation");
        assertThatThrownBy(() -> HeadDirections.fit(LAYERS, HEADS, DIM, TRAIN_POSITIVE, List.of(new float[5]), VALIDATION_POSITIVE,
                VALIDATION_NEGATIVE)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("5 values, not 24");
    }

    @Test
    void theSplitHoldsOutADisjointShareOfEachClass() {
        for (int[] nAndValidation : new int[][]{{10, 3}, {4, 1}, {2, 1}, {400, 100}}) {
            int n = nAndValidation[0];
            DirectionFinder.Split split = DirectionFinder.split(n, 0.25, new Random(3));
            assertThat(split.validation()).hasSize(nAndValidation[1]);
            Set<Integer> all = new HashSet<>(split.train());
            all.addAll(split.validation());
            assertThat(all).hasSize(n).allSatisfy(i -> assertThat(i).isBetween(0, n - 1));
        }
        // at least one on each side, whatever the fraction
        assertThat(DirectionFinder.split(3, 0.01, new Random(1)).validation()).hasSize(1);
        assertThat(DirectionFinder.split(3, 0.99, new Random(1)).train()).hasSize(1);
        // the seed decides which
        assertThat(DirectionFinder.split(50, 0.25, new Random(9))).isEqualTo(DirectionFinder.split(50, 0.25, new Random(9)));
        assertThat(DirectionFinder.split(50, 0.25, new Random(9))).isNotEqualTo(DirectionFinder.split(50, 0.25, new Random(10)));
    }
}
