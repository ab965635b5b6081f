package io.headgate.effect;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The two-proportion z-test against values worked by hand. */
class ProportionTestTest {

    @Test
    void matchesAWorkedExample() {
        // 50/100 against 65/100: pooled 0.575, se = sqrt(0.575 * 0.425 * 0.02) = 0.069911, z = 2.1456, p = 0.0319
        ProportionTest t = ProportionTest.of(50, 100, 65, 100);
        assertThat(t.z()).isCloseTo(2.1456, within(1e-3));
        assertThat(t.pValue()).isCloseTo(0.0319, within(5e-4));
    }

    @Test
    void equalProportionsAndDegenerateCases() {
        assertThat(ProportionTest.of(30, 60, 15, 30).pValue()).isCloseTo(1.0, within(1e-6));
        assertThat(ProportionTest.of(10, 10, 10, 10).pValue()).isEqualTo(1.0);
        assertThat(ProportionTest.of(0, 0, 3, 5).pValue()).isEqualTo(1.0);
        assertThat(ProportionTest.erfc(0)).isCloseTo(1.0, within(1e-6));
        assertThat(ProportionTest.erfc(1.959964 / Math.sqrt(2))).isCloseTo(0.05, within(1e-5));
    }
}
