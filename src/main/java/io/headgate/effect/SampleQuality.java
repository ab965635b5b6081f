package io.headgate.effect;

import io.headgate.model.diffusion.SampleClassifier;

/**
 * The quality of a set of generated images as the bundle's classifier sees them: the share of
 * conditional samples classified as the label they were generated for, the mean top-class probability
 * (softmax of the logits), and the Fréchet distance between the Gaussian of their features and that of
 * real held-out images ({@link FrechetDistance}; it has a small-sample bias, so compare sets of equal size).
 *
 * @param accuracy NaN for unconditional samples (no labels)
 */
public record SampleQuality(int count, double accuracy, double confidence, double frechetDistance) {

    /**
     * @param labels the label each image was generated for, or null for unconditional samples
     * @param real   the real images' feature statistics
     */
    public static SampleQuality measure(SampleClassifier.Scores scores, long[] labels, FeatureStatistics real) {
        int n = scores.count(), classes = scores.classes();
        if (labels != null && labels.length != n) throw new IllegalArgumentException("labels has " + labels.length + " entries for " + n + " images");
        if (real.dimension() != scores.featureSize()) {
            throw new IllegalArgumentException("feature statistics have " + real.dimension() + " dimensions; the classifier gives " + scores.featureSize());
        }
        float[] logits = scores.logits();
        int correct = 0;
        double confidence = 0;
        for (int k = 0; k < n; k++) {
            confidence += confidence(logits, k, classes);
            if (labels != null) {
                if (labels[k] < 0 || labels[k] >= classes) throw new IllegalArgumentException("labels[" + k + "] is " + labels[k] + "; must lie in 0.." + (classes - 1));
                if (labels[k] == top(logits, k, classes)) correct++;
            }
        }
        double fd = FrechetDistance.between(FeatureStatistics.of(scores.features(), n, scores.featureSize()), real);
        return new SampleQuality(n, labels == null ? Double.NaN : (double) correct / n, confidence / n, fd);
    }

    /** The class image k's logits rank first. */
    public static int top(float[] logits, int k, int classes) {
        int top = 0;
        for (int c = 1; c < classes; c++) if (logits[k * classes + c] > logits[k * classes + top]) top = c;
        return top;
    }

    /** Image k's top-class probability: the softmax of its logits at the top class. */
    public static double confidence(float[] logits, int k, int classes) {
        double max = logits[k * classes + top(logits, k, classes)], sum = 0;
        for (int c = 0; c < classes; c++) sum += Math.exp(logits[k * classes + c] - max);
        return 1 / sum; // exp(0) / sum
    }
}
