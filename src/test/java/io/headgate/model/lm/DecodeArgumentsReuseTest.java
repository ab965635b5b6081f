package io.headgate.model.lm;

import io.headgate.model.ControlBatch;
import io.headgate.model.ControlRow;
import io.headgate.testing.Greedy;
import io.headgate.testing.ParensLm;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A decode pass shaped like the previous one runs on the previous pass's argument maps; what changed
 * in place (the token, the lengths, the control rows) still reaches the graph, and a buffer replaced
 * because it grew is not read through a stale view. The reference graph decodes another shape
 * between every two of its steps, so each of its steps builds its maps afresh.
 */
class DecodeArgumentsReuseTest {

    @Test
    void reusedArgumentsGiveTheLogitsOfFreshOnesBitForBit() throws Exception {
        try (CausalLmGraph reused = ParensLm.graph(); CausalLmGraph fresh = ParensLm.graph()) {
            var d = reused.manifest().dimensions();
            ControlRow identity = ControlRow.identity(d);
            float[] gain = identity.gain().clone();
            Arrays.fill(gain, d.heads(), 2 * d.heads(), 1.7f); // layer 1 boosted
            ControlRow steered = new ControlRow(gain, identity.bias(), identity.mix());
            ControlBatch controls = new ControlBatch(d, 1);
            controls.set(0, identity);
            KvCache a = new KvCache(reused.manifest(), 2), b = new KvCache(fresh.manifest(), 2), scratch = new KvCache(fresh.manifest(), 2);
            long[] prompt = ParensLm.encode("([{<");
            FloatBuffer la = reused.forward(a, 0, 1, prompt.length, prompt, new int[]{0}, controls);
            FloatBuffer lb = fresh.forward(b, 0, 1, prompt.length, prompt, new int[]{0}, controls);
            assertBitEqual(lb, la, "prefill");
            fresh.forward(scratch, 1, 1, prompt.length, prompt, new int[]{0}, controls);
            int past = prompt.length;
            long next = Greedy.argmax(la, 0, d.vocabSize());
            for (int step = 0; step < 6; step++) {
                if (step == 2) { // a long prompt in the other slot: the ids buffer is replaced by a larger one
                    long[] longPrompt = ParensLm.encode("(".repeat(30) + ")".repeat(29) + "=");
                    reused.forward(a, 1, 1, longPrompt.length, longPrompt, new int[]{0}, controls);
                }
                if (step == 4) controls.set(0, steered); // the control row changes in place
                la = reused.forward(a, 0, 1, 1, new long[]{next}, new int[]{past}, controls);
                lb = fresh.forward(b, 0, 1, 1, new long[]{next}, new int[]{past}, controls);
                assertBitEqual(lb, la, "decode step " + step);
                fresh.forward(scratch, 1, 1, 1, new long[]{next}, new int[]{prompt.length}, controls); // another shape: fresh maps next time
                next = Greedy.argmax(la, 0, d.vocabSize());
                past++;
            }
        }
    }

    private static void assertBitEqual(FloatBuffer expected, FloatBuffer actual, String what) {
        assertThat(actual.remaining()).as(what).isEqualTo(expected.remaining());
        for (int i = 0; i < expected.remaining(); i++) {
            assertThat(Float.floatToRawIntBits(actual.get(i))).as("%s: logit %d", what, i).isEqualTo(Float.floatToRawIntBits(expected.get(i)));
        }
    }
}
