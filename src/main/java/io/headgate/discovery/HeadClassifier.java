package io.headgate.discovery;

import java.util.Locale;

/**
 * Classes from a scan's tables. A head is SOUND when its attribution to the target is positive on
 * at least {@code threshold} of the examples and its mean exceeds {@code margin} (a consistent but
 * negligible push is not worth boosting); INTERFERING when negative on at least {@code threshold}
 * with mean below −margin; IRRELEVANT otherwise. {@code threshold} above one half keeps the first
 * two exclusive.
 *
 * @param centred attribution measured against the mean logit rather than the raw logit
 */
public record HeadClassifier(double threshold, double margin, boolean centred) {

    public static final double DEFAULT_THRESHOLD = 0.8;
    public static final double DEFAULT_MARGIN = 0.05;

    public HeadClassifier {
        if (!(threshold > 0.5 && threshold <= 1)) throw new IllegalArgumentException("threshold must be in (0.5, 1], got " + threshold);
        if (!(margin >= 0)) throw new IllegalArgumentException("margin must be >= 0, got " + margin);
    }

    public HeadClass classify(HeadTables t, int index) {
        double mean = t.attributionMean()[index];
        if (t.attributionPositive()[index] >= threshold && mean > margin) return HeadClass.SOUND;
        if (t.attributionNegative()[index] >= threshold && mean < -margin) return HeadClass.INTERFERING;
        return HeadClass.IRRELEVANT;
    }

    public HeadClass[] classify(HeadTables t) {
        HeadClass[] out = new HeadClass[t.layers() * t.heads()];
        for (int i = 0; i < out.length; i++) out[i] = classify(t, i);
        return out;
    }

    /** Exactly what was used, for the result's {@code thresholds} field. */
    public String describe() {
        String attribution = centred
                ? "direct logit attribution (s ⊙ W_O^h z_h)·(W_U[target] − mean_v W_U[v]), s = γ/rms(final residual) held fixed"
                : "direct logit attribution (s ⊙ W_O^h z_h)·W_U[target], s = γ/rms(final residual) held fixed";
        return String.format(Locale.ROOT,
                "%s, at the last prompt position; SOUND: attribution > 0 on >= %.2f of examples and mean > %.3f; "
                        + "INTERFERING: attribution < 0 on >= %.2f of examples and mean < -%.3f; otherwise IRRELEVANT",
                attribution, threshold, margin, threshold, margin);
    }
}
