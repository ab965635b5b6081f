package io.headgate.model.lm;

import io.headgate.model.ControlBatch;
import io.headgate.convert.CheckpointConverter;
import io.headgate.model.ControlRow;
import io.headgate.testing.Checkpoints;
import io.headgate.testing.Greedy;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Identity controls (gain 1, bias 0, mix 0) reproduce the plain graph bit for bit, prefill and decode. */
class IdentityControlsTest {

    @TempDir
    Path dir;

    static List<Checkpoints.WithReference> checkpoints() {
        return Checkpoints.withReferences();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("checkpoints")
    void identityControlsEqualThePlainGraphBitForBit(Checkpoints.WithReference c) throws Exception {
        try (CausalLmGraph plain = Checkpoints.convertAndLoad(c.checkpoint(), dir, "plain", new CheckpointConverter.Options(false, false, 0));
             CausalLmGraph steerable = Checkpoints.convertAndLoad(c.checkpoint(), dir, "steerable", CheckpointConverter.Options.STEERABLE)) {
            var d = steerable.manifest().dimensions();
            ControlBatch identity = new ControlBatch(d, 1);
            identity.set(0, ControlRow.identity(d));
            KvCache plainCache = new KvCache(plain.manifest(), 1), steerCache = new KvCache(steerable.manifest(), 1);
            long[] prompt = {1, 3, 5, 7, 9, 4, 2}; // valid ids in every test vocabulary
            FloatBuffer a = plain.forward(plainCache, 0, 1, prompt.length, prompt, new int[]{0}, null);
            FloatBuffer b = steerable.forward(steerCache, 0, 1, prompt.length, prompt, new int[]{0}, identity);
            assertBitEqual(a, b, "prefill");
            int length = prompt.length;
            for (int step = 0; step < 12; step++) {
                long next = Greedy.argmax(a, 0, d.vocabSize());
                a = plain.forward(plainCache, 0, 1, 1, new long[]{next}, new int[]{length}, null);
                b = steerable.forward(steerCache, 0, 1, 1, new long[]{next}, new int[]{length}, identity);
                assertBitEqual(a, b, "decode step " + step);
                length++;
            }
        }
    }

    private static void assertBitEqual(FloatBuffer expected, FloatBuffer actual, String what) {
        assertEquals(expected.remaining(), actual.remaining(), what);
        for (int i = 0; i < expected.remaining(); i++) {
            assertEquals(Float.floatToRawIntBits(expected.get(i)), Float.floatToRawIntBits(actual.get(i)),
                    what + ": logit " + i + " differs: " + expected.get(i) + " vs " + actual.get(i));
        }
    }
}
