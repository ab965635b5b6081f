package io.headgate.discovery;

import io.headgate.convert.CheckpointConverter;
import io.headgate.model.lm.CausalLmGraph;
import io.headgate.model.ControlBatch;
import io.headgate.model.lm.KvCache;
import io.headgate.model.lm.LastPosition;
import io.headgate.model.ControlRow;
import io.headgate.testing.Checkpoints;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Direct logit attribution is exact: the embedding's, every head's, every o_proj bias's and every
 * MLP's share of a logit, read from the analysis graph's outputs and the checkpoint's weights, sum to
 * the logit the graph computed — under identity and under steering, for every test checkpoint.
 */
class AttributionTest {

    static final double TOLERANCE = 1e-4;

    @TempDir
    Path dir;

    static List<Checkpoints.WithReference> checkpoints() {
        return Checkpoints.withReferences();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("checkpoints")
    void sharesSumToTheLogit(Checkpoints.WithReference c) throws Exception {
        try (CausalLmGraph graph = Checkpoints.convertAndLoad(c.checkpoint(), dir, "analysis", CheckpointConverter.Options.ANALYSIS);
             CausalLmGraph steerable = Checkpoints.convertAndLoad(c.checkpoint(), dir, "steerable", CheckpointConverter.Options.STEERABLE)) {
            var d = graph.manifest().dimensions();
            Attribution attribution = Attribution.load(c.checkpoint(), d);
            long[] prompt = {1, 3, 5, 7, 9, 4, 2, 6, 8};
            ControlRow[] rows = {ControlRow.identity(d), steered(d, new Random(7))};
            ControlBatch controls = new ControlBatch(d, rows.length);
            for (int r = 0; r < rows.length; r++) controls.set(r, rows[r]);
            long[] tokens = new long[rows.length * prompt.length];
            for (int r = 0; r < rows.length; r++) System.arraycopy(prompt, 0, tokens, r * prompt.length, prompt.length);

            FloatBuffer logits = graph.forward(new KvCache(graph.manifest(), rows.length), 0, rows.length, prompt.length, tokens,
                    new int[rows.length], controls);
            LastPosition at = graph.lastPosition();
            for (int r = 0; r < rows.length; r++) {
                double mean = 0;
                for (int v = 0; v < d.vocabSize(); v++) mean += logits.get(r * d.vocabSize() + v) / d.vocabSize();
                for (int target : new int[]{0, 4, 11, d.vocabSize() - 1}) {
                    double logit = logits.get(r * d.vocabSize() + target);
                    assertThat(attribution.decompose(at, r, target, false).total()).as("row %d, target %d", r, target)
                            .isCloseTo(logit, within(TOLERANCE));
                    assertThat(attribution.decompose(at, r, target, true).total()).as("centred: row %d, target %d", r, target)
                            .isCloseTo(logit - mean, within(TOLERANCE));
                }
            }

            // the extra outputs leave the logits as the steerable graph computes them
            ControlBatch identity = new ControlBatch(d, 1);
            identity.set(0, rows[0]);
            FloatBuffer plain = steerable.forward(new KvCache(steerable.manifest(), 1), 0, 1, prompt.length, prompt, new int[1], identity);
            for (int v = 0; v < d.vocabSize(); v++) assertThat(logits.get(v)).isCloseTo(plain.get(v), within(1e-5f));
        }
    }

    /** Gains, biases and identity mixes at random: the head outputs are read after them. */
    private static ControlRow steered(io.headgate.model.BundleManifest.Dimensions d, Random random) {
        ControlRow row = ControlRow.identity(d);
        for (int i = 0; i < row.gain().length; i++) {
            row.gain()[i] = (float) (0.5 + random.nextDouble());
            row.mix()[i] = random.nextFloat() < 0.3f ? random.nextFloat() : 0f;
        }
        for (int i = 0; i < row.bias().length; i++) row.bias()[i] = (float) random.nextGaussian() * 0.2f;
        return row;
    }
}
