package io.headgate.model.lm;

import io.headgate.model.BundleManifest;
import io.headgate.model.ControlBatch;
import io.headgate.convert.CheckpointConverter;
import io.headgate.model.ControlRow;
import io.headgate.testing.Checkpoints;
import io.headgate.testing.Greedy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Continuous batching: 8 streams with 8 different control rows and prompts of different lengths,
 * each prefilled alone into its own slot of a shared cache, then decoded together — every row must
 * equal the same stream run alone.
 */
class BatchedRowsTest {

    static final int ROWS = 8, STEPS = 10;
    static final double TOLERANCE = 1e-5;

    @TempDir
    Path dir;

    @Test
    void eightRowsWithEightProfilesEqualEachRowAlone() throws Exception {
        try (CausalLmGraph graph = Checkpoints.convertAndLoad(Checkpoints.PARENS_LM, dir, "bundle", CheckpointConverter.Options.STEERABLE)) {
            var d = graph.manifest().dimensions();
            Random random = new Random(42);
            ControlRow[] rows = new ControlRow[ROWS];
            long[][] prompts = new long[ROWS][];
            for (int r = 0; r < ROWS; r++) {
                rows[r] = randomControls(d, random, r);
                prompts[r] = new long[3 + 2 * r];
                prompts[r][0] = 1; // <s>
                for (int i = 1; i < prompts[r].length; i++) prompts[r][i] = 3 + random.nextInt(d.vocabSize() - 3);
            }

            // alone: each row in a cache of its own, batch of one
            float[][][] alone = new float[ROWS][STEPS][];
            long[][] fed = new long[ROWS][STEPS];
            for (int r = 0; r < ROWS; r++) {
                KvCache cache = new KvCache(graph.manifest(), 1);
                ControlBatch controls = new ControlBatch(d, 1);
                controls.set(0, rows[r]);
                FloatBuffer logits = graph.forward(cache, 0, 1, prompts[r].length, prompts[r], new int[]{0}, controls);
                for (int s = 0; s < STEPS; s++) {
                    fed[r][s] = Greedy.argmax(logits, 0, d.vocabSize());
                    logits = graph.forward(cache, 0, 1, 1, new long[]{fed[r][s]}, new int[]{prompts[r].length + s}, controls);
                    alone[r][s] = toArray(logits, 0, d.vocabSize());
                }
            }

            // together: prefill each into its slot through a view, then decode all rows in one batch
            KvCache shared = new KvCache(graph.manifest(), ROWS);
            ControlBatch single = new ControlBatch(d, 1);
            ControlBatch batch = new ControlBatch(d, ROWS);
            int[] lengths = new int[ROWS];
            for (int r = 0; r < ROWS; r++) {
                single.set(0, rows[r]);
                batch.set(r, rows[r]);
                graph.forward(shared, r, 1, prompts[r].length, prompts[r], new int[]{0}, single);
                lengths[r] = prompts[r].length;
            }
            double worst = 0;
            for (int s = 0; s < STEPS; s++) {
                long[] tokens = new long[ROWS];
                for (int r = 0; r < ROWS; r++) tokens[r] = fed[r][s];
                FloatBuffer logits = graph.forward(shared, 0, ROWS, 1, tokens, lengths, batch);
                for (int r = 0; r < ROWS; r++) {
                    for (int v = 0; v < d.vocabSize(); v++) {
                        worst = Math.max(worst, Math.abs(alone[r][s][v] - logits.get(r * d.vocabSize() + v)));
                    }
                    lengths[r]++;
                }
            }
            assertTrue(worst <= TOLERANCE, "batched rows differ from rows alone by " + worst);
        }
    }

    /** Row 0 is identity; the others mix gains, biases and identity mixes at random. */
    static ControlRow randomControls(BundleManifest.Dimensions d, Random random, int r) {
        ControlRow row = ControlRow.identity(d);
        if (r == 0) return row;
        for (int i = 0; i < row.gain().length; i++) {
            row.gain()[i] = random.nextFloat() < 0.5f ? 1f : (float) (random.nextFloat() * 2);
            row.mix()[i] = r % 2 == 0 ? random.nextFloat() : 0f;
        }
        for (int i = 0; i < row.bias().length; i++) row.bias()[i] = r % 3 == 0 ? (float) random.nextGaussian() * 0.3f : 0f;
        return row;
    }

    static float[] toArray(FloatBuffer b, int offset, int n) {
        float[] out = new float[n];
        b.get(offset, out);
        return out;
    }
}
