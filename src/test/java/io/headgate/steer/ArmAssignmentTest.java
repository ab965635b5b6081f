package io.headgate.steer;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** Sticky, weighted arm assignment. */
class ArmAssignmentTest {

    private static Experiment experiment(double control, double treatment) {
        return new Experiment("parens-lm", "ab", 1, new ExperimentSpec("",
                List.of(new Arm("control", "identity", control), new Arm("treatment", "boost", treatment))), Instant.now());
    }

    @Test
    void theSameKeyKeepsItsArmWhileTheArmsAreUnchanged() {
        Experiment e = experiment(1, 1);
        for (int k = 0; k < 200; k++) {
            String key = "user-" + k;
            String first = ArmAssignment.choose(e, key).name();
            for (int i = 0; i < 5; i++) assertThat(ArmAssignment.choose(e, key).name()).isEqualTo(first);
            // a new revision with the same arms assigns the same way
            Experiment next = new Experiment(e.model(), e.name(), 2, e.spec(), Instant.now());
            assertThat(ArmAssignment.choose(next, key).name()).isEqualTo(first);
        }
    }

    @Test
    void changingTheWeightsReshuffles() {
        Experiment before = experiment(1, 1), after = experiment(1, 1.5);
        int moved = 0;
        for (int k = 0; k < 1000; k++) {
            if (!ArmAssignment.choose(before, "k" + k).name().equals(ArmAssignment.choose(after, "k" + k).name())) moved++;
        }
        assertThat(moved).isGreaterThan(100);
    }

    @Test
    void weightsAreHonouredWithinFourSigma() {
        Experiment e = experiment(1, 3);
        int n = 10_000;
        Map<String, Integer> counts = new HashMap<>();
        for (int k = 0; k < n; k++) counts.merge(ArmAssignment.choose(e, "key-" + k).name(), 1, Integer::sum);
        double p = 0.25, expected = n * p, sigma = Math.sqrt(n * p * (1 - p));
        assertThat(Math.abs(counts.getOrDefault("control", 0) - expected)).isLessThan(4 * sigma);
        assertThat(counts.get("control") + counts.get("treatment")).isEqualTo(n);
    }

    @Test
    void anEmptyKeyDrawsAtRandomByWeight() {
        Experiment e = experiment(1, 3);
        SplittableRandom random = new SplittableRandom(20261130); // seeded: the same draws on every run
        int n = 10_000, control = 0;
        for (int k = 0; k < n; k++) if (ArmAssignment.choose(e, "", random).name().equals("control")) control++;
        double sigma = Math.sqrt(n * 0.25 * 0.75);
        assertThat(Math.abs(control - n * 0.25)).isLessThan(4 * sigma);
    }

    @Test
    void threeArmsSplitTheRangeByTheirWeights() {
        // weights 2, 1, 1: a holds [0, 1/2), b [1/2, 3/4), c [3/4, 1)
        List<Arm> three = List.of(new Arm("a", "identity", 2), new Arm("b", "p", 1), new Arm("c", "q", 1));
        assertThat(ArmAssignment.pick(three, 0.4999).name()).isEqualTo("a");
        assertThat(ArmAssignment.pick(three, 0.5).name()).isEqualTo("b");
        assertThat(ArmAssignment.pick(three, 0.7499).name()).isEqualTo("b");
        assertThat(ArmAssignment.pick(three, 0.75).name()).isEqualTo("c");
    }

    /**
     * Routing keys placed by an independent computation (Python's hashlib): SHA-256 over each of
     * "ab", the fingerprint "7:control8:identity1.0;9:treatment5:boost3.0;" and the key, each preceded
     * by its UTF-8 length as a 4-byte big-endian integer; the digest's first 8 bytes as an unsigned
     * big-endian integer, shifted right by 11, divided by 2^53:
     * alice 0.15329529672673647 (control, below 1/4), user-3 0.25502418804517213 (treatment, just above
     * 1/4), bob 0.798978351895774 (treatment).
     */
    @Test
    void routingKeysLandWhereAHandComputedHashPutsThem() {
        Experiment e = experiment(1, 3);
        String fingerprint = ArmAssignment.fingerprint(e.spec().arms());
        assertThat(fingerprint).isEqualTo("7:control8:identity1.0;9:treatment5:boost3.0;");
        assertThat(ArmAssignment.point("ab", fingerprint, "alice")).isEqualTo(0.15329529672673647);
        assertThat(ArmAssignment.point("ab", fingerprint, "user-3")).isEqualTo(0.25502418804517213);
        assertThat(ArmAssignment.point("ab", fingerprint, "bob")).isEqualTo(0.798978351895774);
        assertThat(ArmAssignment.choose(e, "alice").name()).isEqualTo("control");
        assertThat(ArmAssignment.choose(e, "user-3").name()).isEqualTo("treatment");
        assertThat(ArmAssignment.choose(e, "bob").name()).isEqualTo("treatment");
    }

    @Test
    void pickCoversTheWholeRange() {
        List<Arm> arms = experiment(1, 3).spec().arms();
        assertThat(ArmAssignment.pick(arms, 0.0).name()).isEqualTo("control");
        assertThat(ArmAssignment.pick(arms, 0.2499).name()).isEqualTo("control");
        assertThat(ArmAssignment.pick(arms, 0.25).name()).isEqualTo("treatment");
        assertThat(ArmAssignment.pick(arms, Math.nextDown(1.0)).name()).isEqualTo("treatment");
    }
}
