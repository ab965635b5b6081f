package io.headgate.effect;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.api.Assertions.withinPercentage;

/** McNemar's exact test against values worked by hand. */
class McNemarTestTest {

    @Test
    void oneAgainstNineDiscordantProbes() {
        // n = 10 discordant, P(X <= 1) = (C(10,0) + C(10,1)) / 2^10 = 11/1024; p = 2 * 11/1024 = 0.021484375
        McNemarTest t = McNemarTest.of(1, 9);
        assertThat(t.pValue()).isCloseTo(0.021484375, within(1e-15));
        // z = (9 - 1) / sqrt(10) = 2.5298221...
        assertThat(t.z()).isCloseTo(8 / Math.sqrt(10), within(1e-15));
        assertThat(McNemarTest.of(9, 1).pValue()).isCloseTo(0.021484375, within(1e-15));
        assertThat(McNemarTest.of(9, 1).z()).isNegative();
    }

    @Test
    void smallTablesByHand() {
        // b = 0, c = 5: P(X <= 0) = 1/32, p = 2/32 = 0.0625
        assertThat(McNemarTest.of(0, 5).pValue()).isCloseTo(0.0625, within(1e-15));
        // b = 0, c = 6: p = 2/64 = 0.03125, the smallest all-one-way table significant at 5%
        assertThat(McNemarTest.of(0, 6).pValue()).isCloseTo(0.03125, within(1e-15));
        // b = 2, c = 8: P(X <= 2) = (1 + 10 + 45) / 1024 = 56/1024, p = 0.109375
        assertThat(McNemarTest.of(2, 8).pValue()).isCloseTo(0.109375, within(1e-15));
        // b = 3, c = 4: P(X <= 3) = (1 + 7 + 21 + 35) / 128 = 1/2, p = 1
        assertThat(McNemarTest.of(3, 4).pValue()).isEqualTo(1.0);
        assertThat(McNemarTest.of(5, 5).pValue()).isEqualTo(1.0);
        assertThat(McNemarTest.of(0, 0).pValue()).isEqualTo(1.0);
        assertThat(McNemarTest.of(0, 0).z()).isZero();
    }

    @Test
    void onlyTheDiscordantProbesCount() {
        //                  probe:  0      1      2      3      4      5
        boolean[] first  = {true,  true,  false, false, true,  false};
        boolean[] second = {true,  false, true,  true,  true,  false};
        // concordant: probes 0, 4 (both right) and 5 (both wrong); b = 1 (probe 1), c = 2 (probes 2, 3)
        McNemarTest t = McNemarTest.of(first, second);
        assertThat(t.b()).isEqualTo(1);
        assertThat(t.c()).isEqualTo(2);
        // P(X <= 1 | n = 3) = (1 + 3) / 8 = 1/2, p = 1
        assertThat(t.pValue()).isEqualTo(1.0);
        assertThatThrownBy(() -> McNemarTest.of(new boolean[3], new boolean[4])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void largeCountsDoNotUnderflow() {
        // 2^-2000 underflows a double; b = c: P(X <= n/2) > 1/2, so p = 1
        assertThat(McNemarTest.of(1000, 1000).pValue()).isEqualTo(1.0);
        // 2 * sum_{i <= 900} C(2000, i) / 2^2000 = 8.457089535503927e-06 in exact rational arithmetic
        // (the normal approximation with continuity correction, z = 199 / sqrt(2000) = 4.45, gives 8.6e-06)
        assertThat(McNemarTest.of(900, 1100).pValue()).isCloseTo(8.457089535503927e-06, withinPercentage(1e-7));
        // b = 0, c = 1000 and c = 1001, on either side of the switch to log space: p = 2 / 2^n
        assertThat(McNemarTest.of(0, 1000).pValue()).isCloseTo(Math.pow(2, -999), withinPercentage(1e-7));
        assertThat(McNemarTest.of(0, 1001).pValue()).isCloseTo(Math.pow(2, -1000), withinPercentage(1e-7));
        // b = 500, c = 501 (log space): P(X <= 500 | n = 1001) = 1/2 by symmetry, p = 1 up to rounding
        assertThat(McNemarTest.of(500, 501).pValue()).isCloseTo(1.0, within(1e-12));
    }
}
