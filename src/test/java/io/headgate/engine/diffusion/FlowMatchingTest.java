package io.headgate.engine.diffusion;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FlowMatchingTest {

    @Test
    void gridRunsFromNoiseToImage() {
        TimeGrid g = new TimeGrid(4);
        assertEquals(1.0, g.from(0));
        assertEquals(0.75, g.to(0));
        assertEquals(0.25, g.from(3));
        assertEquals(0.0, g.to(3));
        assertThrows(IndexOutOfBoundsException.class, () -> g.t(5));
        assertThrows(IllegalArgumentException.class, () -> new TimeGrid(0));
    }

    @Test
    void eulerStepMovesAgainstTheVelocityAsTimeFalls() {
        float[] x = {9f, 1f, 2f, 9f};
        FlowMatching.euler(x, 1, new float[]{4f, -8f}, 2, 0.75, 0.5);
        assertArrayEquals(new float[]{9f, 0f, 4f, 9f}, x); // x + (0.5 − 0.75)·v
    }

    @Test
    void exactVelocityIntegratesToTheImageAndTheEstimateRecoversIt() {
        float[] x0 = {0.5f, -1f, 0.25f}, eps = {1f, 0.5f, -2f};
        float[] v = new float[3];
        for (int i = 0; i < 3; i++) v[i] = eps[i] - x0[i];
        double t = 0.625; // exact in binary, so x_t is exact too
        float[] x = new float[3];
        for (int i = 0; i < 3; i++) x[i] = (float) ((1 - t) * x0[i] + t * eps[i]);
        float[] estimate = new float[3];
        FlowMatching.x0Estimate(x, 0, v, 3, t, estimate);
        assertArrayEquals(x0, estimate);
        TimeGrid grid = new TimeGrid(5); // straight path: Euler is exact for any step count
        float[] walk = eps.clone();
        for (int s = 0; s < 5; s++) FlowMatching.euler(walk, 0, v, 3, grid.from(s), grid.to(s));
        assertArrayEquals(x0, walk, 1e-6f);
    }
}
