package io.headgate.engine.diffusion;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GuidanceTest {

    final float[] vC = {1f, -2f}, vU = {0.5f, 1f}, vP = {3f, -2f};

    @Test
    void withClassifierFreeGuidance() {
        float[] out = new float[2];
        new Guidance(3, 0.5, 0).combine(0.7, vC, vU, vP, out);
        // v_u + w (v_c - v_u) + s (v_c - v_p): 0.5 + 3·0.5 + 0.5·(−2) = 1;  1 + 3·(−3) + 0.5·0 = −8
        assertArrayEquals(new float[]{1f, -8f}, out);
    }

    @Test
    void withoutClassifierFreeGuidance() {
        float[] out = new float[2];
        new Guidance(1, 2, 0).combine(0.7, vC, null, vP, out);
        // v_c + s (v_c - v_p): 1 + 2·(−2) = −3;  −2 + 0 = −2
        assertArrayEquals(new float[]{-3f, -2f}, out);
        new Guidance(0, 0, 0).combine(0.7, vC, null, null, out);
        assertArrayEquals(vC, out);
    }

    @Test
    void classifierFreeGuidanceIsOnAboveOneAsInTheDiffusersPipelines() {
        assertFalse(new Guidance(1, 0, 0).classifierFree());
        assertFalse(new Guidance(0.5, 0, 0).classifierFree());
        assertTrue(new Guidance(1.01, 0, 0).classifierFree());
    }

    @Test
    void adaptiveScaleFallsOnTheThousandStepScaleAndStopsAtZero() {
        Guidance g = new Guidance(1, 3, 0.01);
        assertEquals(3, g.perturbationScaleAt(1.0), 1e-12);          // t = 1000: s
        assertEquals(3 - 0.01 * 100, g.perturbationScaleAt(0.9), 1e-12); // t = 900: s − s_a·100
        assertEquals(0, g.perturbationScaleAt(0.5), 0);                // 3 − 5 < 0
        assertFalse(g.perturbs(0.5));
        assertTrue(g.perturbs(0.75));
        float[] out = new float[2];
        g.combine(0.9, vC, null, vP, out); // s_t = 2
        assertArrayEquals(new float[]{-3f, -2f}, out);
    }

    @Test
    void rowsMustMatchTheGuidance() {
        float[] out = new float[2];
        assertThrows(IllegalArgumentException.class, () -> new Guidance(2, 0, 0).combine(0.5, vC, null, null, out));
        assertThrows(IllegalArgumentException.class, () -> new Guidance(1, 0, 0).combine(0.5, vC, vU, null, out));
        assertThrows(IllegalArgumentException.class, () -> new Guidance(1, 1, 0).combine(0.5, vC, null, null, out));
        assertThrows(IllegalArgumentException.class, () -> new Guidance(1, 0, 0).combine(0.5, vC, null, vP, out));
    }

    @Test
    void badScalesAreRejectedNamingTheField() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Guidance(Double.NaN, 0, 0)).getMessage().startsWith("cfgScale"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Guidance(1, -1, 0)).getMessage().startsWith("perturbationScale"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Guidance(1, 0, Double.POSITIVE_INFINITY)).getMessage().startsWith("adaptiveScale"));
    }
}
