package io.headgate.steer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Experiment revisions: numbering, optimistic concurrency, restarts, deletion, promotion, validation. */
class ExperimentRegistryTest {

    private static final String MODEL = "parens-lm";

    @TempDir
    Path dir;

    private static ExperimentSpec spec(double a, double b) {
        return new ExperimentSpec("test", List.of(new Arm("control", "identity", a), new Arm("boost", "boost@2", b)));
    }

    @Test
    void revisionsSurviveARestart() throws Exception {
        ExperimentRegistry registry = new ExperimentRegistry(dir);
        assertThat(registry.put(MODEL, "ab", spec(1, 1), 0).revision()).isEqualTo(1);
        Experiment second = registry.put(MODEL, "ab", spec(1, 3), 1);
        assertThat(second.revision()).isEqualTo(2);
        assertThat(dir.resolve(MODEL).resolve("ab")).isDirectoryContaining("glob:**/2.json");

        ExperimentRegistry reopened = new ExperimentRegistry(dir);
        assertThat(reopened.latest(MODEL, "ab")).contains(second);
        assertThat(reopened.revision(MODEL, "ab", 1).orElseThrow().spec()).isEqualTo(spec(1, 1));
        assertThat(reopened.list(MODEL)).containsExactly(second);
        assertThat(reopened.list("other")).isEmpty();
    }

    @Test
    void aStaleWriteIsRefused() throws Exception {
        ExperimentRegistry registry = new ExperimentRegistry(dir);
        registry.put(MODEL, "ab", spec(1, 1), 0);
        assertThatThrownBy(() -> registry.put(MODEL, "ab", spec(1, 2), 0))
                .isInstanceOfSatisfying(StaleRevisionException.class, e -> assertThat(e.actual()).isEqualTo(1));
        assertThatThrownBy(() -> registry.promote(MODEL, "ab", "boost", 7)).isInstanceOf(StaleRevisionException.class);
        assertThatThrownBy(() -> registry.delete(MODEL, "ab", 3)).isInstanceOf(StaleRevisionException.class);
    }

    @Test
    void twoRegistriesOnOneDirectoryCannotBothWriteARevision() throws Exception {
        ExperimentRegistry first = new ExperimentRegistry(dir);
        ExperimentRegistry second = new ExperimentRegistry(dir);
        first.put(MODEL, "ab", spec(1, 1), 0);
        assertThatThrownBy(() -> second.put(MODEL, "ab", spec(2, 1), 0))
                .isInstanceOfSatisfying(StaleRevisionException.class, e -> assertThat(e.actual()).isEqualTo(1));
        // the loser caught up and can write on top
        assertThat(second.put(MODEL, "ab", spec(2, 1), 1).revision()).isEqualTo(2);
    }

    @Test
    void promotionLeavesOneArmWithWeightOne() throws Exception {
        ExperimentRegistry registry = new ExperimentRegistry(dir);
        registry.put(MODEL, "ab", spec(1, 3), 0);
        Experiment promoted = registry.promote(MODEL, "ab", "boost", 1);
        assertThat(promoted.revision()).isEqualTo(2);
        assertThat(promoted.spec().arms()).containsExactly(new Arm("boost", "boost@2", 1.0));
        assertThatThrownBy(() -> registry.promote(MODEL, "ab", "nope", 2))
                .isInstanceOfSatisfying(ProfileException.class, e -> assertThat(e.field()).isEqualTo("arm"));
        assertThat(ArmAssignment.choose(promoted, "anyone").name()).isEqualTo("boost");
    }

    @Test
    void deletionIsARevisionAndNumberingContinues() throws Exception {
        ExperimentRegistry registry = new ExperimentRegistry(dir);
        registry.put(MODEL, "ab", spec(1, 1), 0);
        assertThat(registry.delete(MODEL, "ab", 1)).isEqualTo(2);
        assertThat(registry.latest(MODEL, "ab")).isEmpty();
        assertThat(registry.currentRevision(MODEL, "ab")).isZero();
        assertThat(new ExperimentRegistry(dir).put(MODEL, "ab", spec(1, 1), 0).revision()).isEqualTo(3);
        assertThatThrownBy(() -> registry.delete(MODEL, "gone", 0)).isInstanceOf(ProfileException.class);
    }

    @Test
    void specsAreValidated() {
        assertField(new ExperimentSpec("", List.of(new Arm("a", "identity", 1))), false, "arms");
        assertField(new ExperimentSpec("", List.of(new Arm("a", "identity", 1), new Arm("a", "x", 1))), false, "arms[1].name");
        assertField(new ExperimentSpec("", List.of(new Arm("a b", "identity", 1), new Arm("b", "x", 1))), false, "arms[0].name");
        assertField(new ExperimentSpec("", List.of(new Arm("a", "identity", 1), new Arm("b", "x", 0))), false, "arms[1].weight");
        assertField(new ExperimentSpec("", List.of(new Arm("a", "identity", Double.NaN), new Arm("b", "x", 1))), false, "arms[0].weight");
        assertField(new ExperimentSpec("", List.of(new Arm("a", "identity", 1), new Arm("b", "", 1))), false, "arms[1].profile");
        assertField(new ExperimentSpec("", List.of()), true, "arms");
        new ExperimentSpec("", List.of(new Arm("a", "identity", 1))).validate(true);
    }

    private static void assertField(ExperimentSpec spec, boolean promoted, String field) {
        assertThatThrownBy(() -> spec.validate(promoted))
                .isInstanceOfSatisfying(ProfileException.class, e -> assertThat(e.field()).isEqualTo(field));
    }
}
