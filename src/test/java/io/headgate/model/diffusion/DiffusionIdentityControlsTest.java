package io.headgate.model.diffusion;

import io.headgate.engine.diffusion.Noise;
import io.headgate.model.ControlBatch;
import io.headgate.model.ControlRow;
import io.headgate.testing.DigitsDit;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Identity controls (gain 1, bias 0, mix 0) reproduce the graph exported without controls bit for bit. */
class DiffusionIdentityControlsTest {

    @Test
    void identityControlsEqualThePlainGraphBitForBit() throws Exception {
        try (DiffusionGraph steerable = DigitsDit.graph(); DiffusionGraph plain = DigitsDit.plainGraph()) {
            var d = steerable.manifest().dimensions();
            int P = steerable.imageSize();
            for (int rows : new int[]{1, 7}) {
                float[] x = Noise.gaussian(rows, rows * P);
                float[] t = new float[rows];
                long[] labels = new long[rows];
                ControlBatch identity = new ControlBatch(d, rows);
                for (int i = 0; i < rows; i++) {
                    t[i] = 1f - i / 7f;
                    labels[i] = i % 11; // 10 = the null label
                    identity.set(i, ControlRow.identity(d));
                }
                FloatBuffer a = copy(plain.forward(rows, x, t, labels, null));
                FloatBuffer b = steerable.forward(rows, x, t, labels, identity);
                assertEquals(a.remaining(), b.remaining());
                for (int i = 0; i < a.remaining(); i++) {
                    assertEquals(Float.floatToRawIntBits(a.get(i)), Float.floatToRawIntBits(b.get(i)),
                            rows + " rows: velocity " + i + " differs: " + a.get(i) + " vs " + b.get(i));
                }
            }
        }
    }

    private static FloatBuffer copy(FloatBuffer b) {
        FloatBuffer c = FloatBuffer.allocate(b.remaining());
        c.put(b.duplicate()).flip();
        return c;
    }
}
