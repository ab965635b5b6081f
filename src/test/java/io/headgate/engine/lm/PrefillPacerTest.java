package io.headgate.engine.lm;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PrefillPacerTest {

    @Test
    void theFloorAppliesUntilBothPassesAreMeasuredAndTheTokenBudgetWhenNothingDecodes() {
        PrefillPacer pacer = new PrefillPacer(256, 1.5, 32);
        assertThat(pacer.budget(true)).as("nothing measured").isEqualTo(32);
        assertThat(pacer.budget(false)).as("nothing measured, nothing decodes").isEqualTo(256);
        pacer.decoded(10_000_000);
        assertThat(pacer.budget(true)).as("no prefill measured").isEqualTo(32);
        pacer.prefilled(100, 10_000_000); // 0.1 ms a token
        assertThat(pacer.budget(true)).as("1.5 x 10 ms of decode at 0.1 ms a token").isEqualTo(150);
        assertThat(pacer.budget(false)).as("no stream decodes: no token to delay").isEqualTo(256);
        assertThat(new PrefillPacer(256, 0, 32)).satisfies(off -> {
            off.decoded(10_000_000);
            off.prefilled(100, 10_000_000);
            assertThat(off.budget(true)).as("share 0: the token budget alone").isEqualTo(256);
        });
    }

    @Test
    void theBudgetFollowsTheDecodePassWithinFloorAndCap() {
        PrefillPacer pacer = new PrefillPacer(256, 1.5, 32);
        pacer.prefilled(100, 10_000_000);
        pacer.decoded(100_000_000);
        assertThat(pacer.budget(true)).as("a long decode pass: the cap").isEqualTo(256);
        for (int i = 0; i < 60; i++) pacer.decoded(1_000_000);
        assertThat(pacer.budget(true)).as("a short decode pass (15 tokens' worth): the floor").isEqualTo(32);
        for (int i = 0; i < 60; i++) pacer.decoded(4_000_000);
        assertThat(pacer.budget(true)).as("a few steps follow a larger batch").isEqualTo(60);
        for (int i = 0; i < 60; i++) pacer.prefilled(30, 6_000_000); // 0.2 ms a token
        assertThat(pacer.budget(true)).as("dearer prompt tokens, fewer per step").isEqualTo(32);
        assertThat(new PrefillPacer(16, 1.5, 32).budget(true)).as("a floor above the cap is the cap").isEqualTo(16);
    }

    @Test
    void refusesNonsense() {
        assertThatThrownBy(() -> new PrefillPacer(0, 1, 32)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PrefillPacer(256, -1, 32)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PrefillPacer(256, Double.NaN, 32)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CausalLmWorkload.Config(4, 0, 256, Double.POSITIVE_INFINITY)).isInstanceOf(IllegalArgumentException.class);
    }
}
