package io.headgate.model.lm;

import io.headgate.model.ControlBatch;
import io.headgate.convert.CheckpointConverter;
import io.headgate.testing.Checkpoints;
import io.headgate.testing.Checkpoints.WithReference;
import io.headgate.testing.ReferenceFixture;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The converted graph under ONNX Runtime against the PyTorch reference (float64): every case, with
 * identity controls and with gains, biases, mixes and all three, for a full prefill and for
 * step-by-step decoding through the in-place cache — including a change of controls mid-stream.
 */
class ReferenceParityTest {

    static final double TOLERANCE = 1e-4;

    @TempDir
    Path dir;

    static List<WithReference> checkpoints() {
        return Checkpoints.withReferences();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("checkpoints")
    void fullPrefillMatchesReferenceAtEveryPosition(WithReference c) throws Exception {
        ReferenceFixture ref = ReferenceFixture.read(c.reference());
        try (CausalLmGraph graph = Checkpoints.convertAndLoad(c.checkpoint(), dir, "all", new CheckpointConverter.Options(true, true, 0))) {
            var d = graph.manifest().dimensions();
            int checked = 0;
            for (ReferenceFixture.Case rc : ref.cases()) {
                if (rc.segments().size() != 1) continue; // controls per row, not per position: see step by step
                KvCache cache = new KvCache(graph.manifest(), 1);
                ControlBatch controls = new ControlBatch(d, 1);
                controls.set(0, rc.segments().getFirst().row(d));
                int T = rc.tokens().length;
                FloatBuffer logits = graph.forward(cache, 0, 1, T, rc.tokens(), new int[]{0}, controls);
                for (int t = 0; t < T; t++) assertClose(rc.logits()[t], logits, t * d.vocabSize(), rc.name() + " position " + t);
                checked++;
            }
            assertTrue(checked >= 5, "too few single-segment cases: " + checked);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("checkpoints")
    void stepByStepDecodingMatchesReference(WithReference c) throws Exception {
        ReferenceFixture ref = ReferenceFixture.read(c.reference());
        try (CausalLmGraph graph = Checkpoints.convertAndLoad(c.checkpoint(), dir, "last", CheckpointConverter.Options.STEERABLE)) {
            var d = graph.manifest().dimensions();
            boolean sawSwitch = false;
            for (ReferenceFixture.Case rc : ref.cases()) {
                sawSwitch |= rc.segments().size() > 1;
                KvCache cache = new KvCache(graph.manifest(), 1);
                ControlBatch controls = new ControlBatch(d, 1);
                int P = rc.promptLength();
                controls.set(0, rc.segmentAt(0).row(d));
                FloatBuffer logits = graph.forward(cache, 0, 1, P, Arrays.copyOf(rc.tokens(), P), new int[]{0}, controls);
                assertClose(rc.logits()[P - 1], logits, 0, rc.name() + " prefill");
                for (int t = P; t < rc.tokens().length; t++) {
                    controls.set(0, rc.segmentAt(t).row(d));
                    logits = graph.forward(cache, 0, 1, 1, new long[]{rc.tokens()[t]}, new int[]{t}, controls);
                    assertClose(rc.logits()[t], logits, 0, rc.name() + " step " + t);
                }
            }
            assertTrue(sawSwitch, "the fixture has no mid-stream change of controls");
        }
    }

    static void assertClose(double[] expected, FloatBuffer actual, int offset, String what) {
        double worst = 0;
        for (int v = 0; v < expected.length; v++) worst = Math.max(worst, Math.abs(expected[v] - actual.get(offset + v)));
        assertTrue(worst <= TOLERANCE, what + ": max |Δlogit| " + worst + " > " + TOLERANCE);
    }
}
