package io.headgate.effect;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Mean and covariance of feature vectors, the Gaussian a Fréchet distance compares: the sample mean
 * and the unbiased sample covariance (divided by N − 1, as numpy's {@code cov}). A diffusion bundle
 * stores those of its real held-out images as {@code {"mean": [F], "cov": [[F] × F], "count": N}}.
 */
public record FeatureStatistics(double[] mean, double[][] cov, int count) {

    public FeatureStatistics {
        int f = mean.length;
        if (f == 0) throw new IllegalArgumentException("mean must not be empty");
        if (cov.length != f) throw new IllegalArgumentException("cov has " + cov.length + " rows; mean has " + f + " values");
        for (int i = 0; i < f; i++) {
            if (cov[i].length != f) throw new IllegalArgumentException("cov[" + i + "] has " + cov[i].length + " values, not " + f);
        }
        if (count < 2) throw new IllegalArgumentException("count must be >= 2, not " + count);
    }

    public int dimension() {
        return mean.length;
    }

    /** The statistics of {@code n} feature vectors of {@code dim} values each, stored back to back. */
    public static FeatureStatistics of(float[] features, int n, int dim) {
        if (n < 2) throw new IllegalArgumentException("need at least 2 feature vectors for a covariance, not " + n);
        if (features.length < n * dim) throw new IllegalArgumentException("features hold " + features.length + " values; " + n + " x " + dim + " needed");
        double[] mean = new double[dim];
        for (int k = 0; k < n; k++) for (int i = 0; i < dim; i++) mean[i] += features[k * dim + i];
        for (int i = 0; i < dim; i++) mean[i] /= n;
        double[][] cov = new double[dim][dim];
        double[] centred = new double[dim];
        for (int k = 0; k < n; k++) {
            for (int i = 0; i < dim; i++) centred[i] = features[k * dim + i] - mean[i];
            for (int i = 0; i < dim; i++) for (int j = i; j < dim; j++) cov[i][j] += centred[i] * centred[j];
        }
        for (int i = 0; i < dim; i++) {
            for (int j = i; j < dim; j++) {
                cov[i][j] /= n - 1;
                cov[j][i] = cov[i][j];
            }
        }
        return new FeatureStatistics(mean, cov, n);
    }

    /** Reads {@code {"mean", "cov", "count"}}; errors name the file and the field. */
    public static FeatureStatistics read(Path file) throws IOException {
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        try {
            JsonNode mean = field(root, "mean"), cov = field(root, "cov"), count = field(root, "count");
            double[] m = vector(mean, "mean");
            double[][] c = new double[cov.size()][];
            for (int i = 0; i < c.length; i++) c[i] = vector(cov.get(i), "cov[" + i + "]");
            return new FeatureStatistics(m, c, count.asInt());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    private static JsonNode field(JsonNode root, String name) {
        JsonNode n = root.get(name);
        if (n == null) throw new IllegalArgumentException("field '" + name + "' is missing");
        return n;
    }

    private static double[] vector(JsonNode n, String field) {
        if (!n.isArray()) throw new IllegalArgumentException("field '" + field + "' must be an array of numbers");
        double[] out = new double[n.size()];
        for (int i = 0; i < out.length; i++) {
            if (!n.get(i).isNumber()) throw new IllegalArgumentException("field '" + field + "[" + i + "]' is not a number");
            out[i] = n.get(i).asDouble();
        }
        return out;
    }
}
