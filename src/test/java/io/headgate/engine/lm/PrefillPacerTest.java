package io.headgate.engine.lm;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class PrefillPacerTest {

    private static final long MS = 1_000_000, S = 1000 * MS;

    @Test
    void theFloorAppliesUntilBothPassesAreMeasuredAndTheTokenBudgetWhenNothingDecodes() {
        PrefillPacer pacer = new PrefillPacer(256, 1.5, 32);
        assertThat(pacer.nextPass(true, 0, 0)).as("nothing measured: the floor").isEqualTo(32);
        assertThat(pacer.nextPass(true, 32, MS)).as("nothing measured: one pass").isZero();
        assertThat(pacer.nextPass(false, 0, 0)).as("nothing decodes: the token budget").isEqualTo(256);
        assertThat(pacer.nextPass(false, 200, 50 * MS)).as("nothing decodes: what is left of it").isEqualTo(56);
        pacer.decoded(10 * MS, 0);
        assertThat(pacer.nextPass(true, 0, 0)).as("no prefill pass measured").isEqualTo(32);
        PrefillPacer off = new PrefillPacer(256, 0, 32);
        off.decoded(10 * MS, 0);
        off.passed(100, 10 * MS);
        assertThat(off.nextPass(true, 100, 10 * MS)).as("share 0: the token budget alone").isEqualTo(156);
    }

    @Test
    void passesArePricedByAFixedCostAndACostPerTokenWithinTheStepsTime() {
        PrefillPacer pacer = new PrefillPacer(256, 1.5, 32);
        for (int tokens : new int[]{16, 64, 32, 128, 16, 48}) pacer.passed(tokens, 4 * MS + tokens * MS / 10); // 4 ms + 0.1 ms a token
        assertThat(pacer.line()[0]).as("fixed cost").isCloseTo(4e6, within(1.0));
        assertThat(pacer.line()[1]).as("per token").isCloseTo(1e5, within(1e-3));
        pacer.decoded(10 * MS, 0);
        assertThat(pacer.nextPass(true, 0, 0)).as("(1.5 x 10 ms - 4 ms) / 0.1 ms").isEqualTo(110);
        assertThat(pacer.nextPass(true, 50, 5 * MS)).as("after a pass of 5 ms: (15 - 5 - 4) / 0.1").isEqualTo(60);
        assertThat(pacer.nextPass(true, 110, 15 * MS)).as("the step's time is spent").isLessThanOrEqualTo(0);
        assertThat(pacer.nextPass(true, 200, 0)).as("never past the token budget").isEqualTo(56);
        for (int i = 0; i < 60; i++) pacer.decoded(2 * MS, 10 * S + i * 2 * MS);
        assertThat(pacer.nextPass(true, 0, 0)).as("a decode pass shorter than a prefill pass's fixed cost: the floor").isEqualTo(32);
        assertThat(pacer.nextPass(true, 32, 7 * MS)).as("and no second pass").isLessThanOrEqualTo(0);
    }

    @Test
    void aBurstThatLengthensTheDecodePassReadsTheFloorUntilItIsTheNorm() {
        PrefillPacer pacer = new PrefillPacer(256, 1.0, 8);
        for (int tokens : new int[]{16, 64, 32, 128, 16, 48}) pacer.passed(tokens, MS + tokens * MS / 4); // 1 ms + 0.25 ms a token
        long t = 0;
        for (int i = 0; i < 1000; i++) pacer.decoded(5 * MS, t += 10 * MS);
        assertThat(pacer.nextPass(true, 0, 0)).as("steady: (5 ms - 1 ms) / 0.25 ms").isCloseTo(16, within(1));
        for (int i = 0; i < 10; i++) pacer.decoded(15 * MS, t += 30 * MS);
        assertThat(pacer.nextPass(true, 0, 0)).as("0.3 s into a burst: priced by the slow average, (6.4 ms - 1 ms) / 0.25 ms").isCloseTo(21, within(1));
        for (int i = 0; i < 1000; i++) pacer.decoded(15 * MS, t += 30 * MS);
        assertThat(pacer.nextPass(true, 0, 0)).as("30 s on the burst is the norm: (15 ms - 1 ms) / 0.25 ms").isCloseTo(56, within(1));
    }

    @Test
    void passesOfOneSizeArePricedPerTokenAlone() {
        PrefillPacer pacer = new PrefillPacer(256, 1.5, 32);
        for (int i = 0; i < 5; i++) pacer.passed(32, 32 * MS / 5); // 0.2 ms a token
        pacer.decoded(10 * MS, 0);
        assertThat(pacer.line()[0]).isZero();
        assertThat(pacer.nextPass(true, 0, 0)).as("1.5 x 10 ms / 0.2 ms").isEqualTo(75);
        assertThat(new PrefillPacer(16, 1.5, 32).nextPass(true, 0, 0)).as("a floor above the cap is the cap").isEqualTo(16);
    }

    @Test
    void refusesNonsense() {
        assertThatThrownBy(() -> new PrefillPacer(0, 1, 32)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PrefillPacer(256, -1, 32)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PrefillPacer(256, Double.NaN, 32)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CausalLmWorkload.Config(4, 0, 256, Double.POSITIVE_INFINITY)).isInstanceOf(IllegalArgumentException.class);
    }
}
