package io.headgate.testing;

import java.nio.FloatBuffer;

/** Argmax over one row of logits. */
public final class Greedy {
    private Greedy() {
    }

    public static int argmax(FloatBuffer logits, int offset, int vocab) {
        int best = 0;
        for (int v = 1; v < vocab; v++) if (logits.get(offset + v) > logits.get(offset + best)) best = v;
        return best;
    }
}
