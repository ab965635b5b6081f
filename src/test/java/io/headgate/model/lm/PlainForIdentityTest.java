package io.headgate.model.lm;

import io.headgate.convert.BundleCache;
import io.headgate.convert.CheckpointConverter;
import io.headgate.model.ControlBatch;
import io.headgate.model.ControlRow;
import io.headgate.testing.Checkpoints;
import io.headgate.testing.Greedy;
import io.headgate.testing.ParensLm;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A graph holding its plain twin runs a batch of identity rows through it and any other batch
 * through the steerable graph, and either way returns exactly what the steerable graph alone does.
 */
class PlainForIdentityTest {

    static Path plainBundle() throws Exception {
        return new BundleCache(Path.of("target", "test-bundles"), new CheckpointConverter(m -> { }))
                .bundleFor(Checkpoints.PARENS_LM, new CheckpointConverter.Options(false, false, 0));
    }

    @Test
    void identityBatchesRunThePlainGraphAndEveryBatchEqualsTheSteerableGraphBitForBit() throws Exception {
        try (CausalLmGraph alone = ParensLm.graph();
             CausalLmGraph twin = CausalLmGraph.load(ParensLm.bundle(), plainBundle(), CausalLmGraph.SessionConfig.DEFAULT)) {
            assertThat(alone.plainForIdentity()).isFalse();
            assertThat(twin.plainForIdentity()).isTrue();
            var d = twin.manifest().dimensions();
            int rows = 3;
            ControlRow identity = ControlRow.identity(d);
            float[] gain = identity.gain().clone();
            Arrays.fill(gain, 0, d.heads(), 0.5f); // layer 0 at half strength
            ControlRow steered = new ControlRow(gain, identity.bias(), identity.mix());
            // an identity that is not the shared instance (as a profile compiled to no change is)
            ControlRow compiledIdentity = new ControlRow(identity.gain().clone(), identity.bias().clone(), identity.mix().clone());

            ControlBatch controls = new ControlBatch(d, rows);
            KvCache aloneCache = new KvCache(alone.manifest(), rows), twinCache = new KvCache(twin.manifest(), rows);
            long[][] prompts = {ParensLm.encode("((("), ParensLm.encode("([{"), ParensLm.encode("(()")};
            int[] past = new int[rows];
            long[] next = new long[rows];
            for (int r = 0; r < rows; r++) {
                controls.set(0, identity);
                FloatBuffer a = alone.forward(aloneCache, r, 1, prompts[r].length, prompts[r], new int[]{0}, controls);
                FloatBuffer b = twin.forward(twinCache, r, 1, prompts[r].length, prompts[r], new int[]{0}, controls);
                assertBitEqual(a, b, "prefill of row " + r);
                past[r] = prompts[r].length;
                next[r] = Greedy.argmax(a, 0, d.vocabSize());
            }
            assertThat(twin.identityRuns()).as("each prefill ran the plain graph").isEqualTo(rows);

            ControlRow[][] schedule = {
                    {identity, identity, identity},
                    {identity, steered, identity},        // one steered row: the whole batch takes the controls
                    {identity, compiledIdentity, identity} // back to the identity: the plain graph again
            };
            long[] expectedRuns = {rows + 1, rows + 1, rows + 2};
            for (int step = 0; step < schedule.length; step++) {
                for (int r = 0; r < rows; r++) controls.set(r, schedule[step][r]);
                FloatBuffer a = alone.forward(aloneCache, 0, rows, 1, next.clone(), past, controls);
                FloatBuffer b = twin.forward(twinCache, 0, rows, 1, next.clone(), past, controls);
                assertBitEqual(a, b, "decode step " + step);
                assertThat(twin.identityRuns()).as("plain runs after step " + step).isEqualTo(expectedRuns[step]);
                for (int r = 0; r < rows; r++) {
                    next[r] = Greedy.argmax(a, r * d.vocabSize(), d.vocabSize());
                    past[r]++;
                }
            }
            assertThat(alone.identityRuns()).isZero();
        }
    }

    @Test
    void aTwinThatIsNotThePlainGraphOfTheSameModelIsRefused() throws Exception {
        assertThatThrownBy(() -> CausalLmGraph.load(ParensLm.bundle(), ParensLm.bundle(), CausalLmGraph.SessionConfig.DEFAULT))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is not the plain twin");
    }

    private static void assertBitEqual(FloatBuffer expected, FloatBuffer actual, String what) {
        assertThat(actual.remaining()).as(what).isEqualTo(expected.remaining());
        for (int i = 0; i < expected.remaining(); i++) {
            assertThat(Float.floatToRawIntBits(actual.get(i))).as("%s: logit %d", what, i).isEqualTo(Float.floatToRawIntBits(expected.get(i)));
        }
    }
}
