package io.headgate.engine.diffusion;

import io.headgate.testing.DigitsDitReference;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NoiseTest {

    @Test
    void matchesAnIndependentImplementationOfTheDocumentedAlgorithm() throws Exception {
        // training/train_digits_dit.py writes SplitMix64 + Box-Muller out in Python (glibc's libm, not fdlibm)
        DigitsDitReference.Trajectory ref = DigitsDitReference.read().trajectory();
        float[] noise = Noise.gaussian(ref.seed(), ref.noise().length);
        for (int i = 0; i < noise.length; i++) {
            assertEquals(ref.noise()[i], noise[i], Math.ulp(ref.noise()[i]), "value " + i);
        }
    }

    @Test
    void sameSeedSameNoiseAndAPrefixOfALongerDraw() {
        assertArrayEquals(Noise.gaussian(42, 64), Noise.gaussian(42, 64));
        float[] odd = Noise.gaussian(42, 7), longer = Noise.gaussian(42, 64);
        for (int i = 0; i < odd.length; i++) assertEquals(longer[i], odd[i]);
        assertFalse(java.util.Arrays.equals(Noise.gaussian(42, 64), Noise.gaussian(43, 64)));
    }

    @Test
    void isStandardNormal() {
        int n = 200_000;
        float[] z = Noise.gaussian(-7, n);
        double mean = 0, var = 0, tail = 0;
        for (float v : z) mean += v;
        mean /= n;
        for (float v : z) {
            var += (v - mean) * (v - mean);
            if (Math.abs(v) > 1.959964) tail++;
        }
        var /= n - 1;
        // standard errors: mean 0.0022, variance 0.0032, tail share 0.00049
        assertEquals(0, mean, 0.01);
        assertEquals(1, var, 0.015);
        assertEquals(0.05, tail / n, 0.0025);
    }

    @Test
    void negativeCountIsRejected() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Noise.gaussian(1, -1)).getMessage().contains("count"));
    }
}
