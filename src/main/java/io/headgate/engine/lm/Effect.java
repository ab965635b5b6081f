package io.headgate.engine.lm;

import java.nio.FloatBuffer;

/**
 * What an intervention did to one next-token distribution, against the un-steered baseline:
 * KL(steered ‖ baseline) in nats, and whether the most likely token changed.
 */
public record Effect(double kl, boolean top1Changed) {

    /** Compares a row of steered logits with baseline logits over the same vocabulary. */
    public static Effect between(FloatBuffer steered, int offset, float[] baseline, int vocab) {
        double maxS = Double.NEGATIVE_INFINITY, maxB = Double.NEGATIVE_INFINITY;
        int topS = 0, topB = 0;
        for (int v = 0; v < vocab; v++) {
            float s = steered.get(offset + v), b = baseline[v];
            if (s > maxS) { maxS = s; topS = v; }
            if (b > maxB) { maxB = b; topB = v; }
        }
        double sumS = 0, sumB = 0;
        for (int v = 0; v < vocab; v++) {
            sumS += Math.exp(steered.get(offset + v) - maxS);
            sumB += Math.exp(baseline[v] - maxB);
        }
        double logZs = maxS + Math.log(sumS), logZb = maxB + Math.log(sumB);
        double kl = 0;
        for (int v = 0; v < vocab; v++) {
            double logP = steered.get(offset + v) - logZs, logQ = baseline[v] - logZb;
            kl += Math.exp(logP) * (logP - logQ);
        }
        return new Effect(Math.max(0, kl), topS != topB); // rounding can dip a hair below 0
    }
}
