package io.headgate.discovery;

import java.nio.FloatBuffer;

/** Reading one row of logits. */
public final class Logits {
    private Logits() {
    }

    /** log softmax(logits)[token], in double. */
    public static double logSoftmax(FloatBuffer logits, int offset, int vocab, int token) {
        double max = Double.NEGATIVE_INFINITY;
        for (int v = 0; v < vocab; v++) max = Math.max(max, logits.get(offset + v));
        double sum = 0;
        for (int v = 0; v < vocab; v++) sum += Math.exp(logits.get(offset + v) - max);
        return logits.get(offset + token) - max - Math.log(sum);
    }

    /** The most likely token; the lowest id on a tie. */
    public static int argmax(FloatBuffer logits, int offset, int vocab) {
        int best = 0;
        for (int v = 1; v < vocab; v++) if (logits.get(offset + v) > logits.get(offset + best)) best = v;
        return best;
    }
}
