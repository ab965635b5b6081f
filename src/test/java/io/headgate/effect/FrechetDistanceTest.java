package io.headgate.effect;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.headgate.testing.DigitsDitReference;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FrechetDistanceTest {

    static final JsonNode FIXTURE = read();

    private static JsonNode read() {
        try {
            return new ObjectMapper().readTree(Path.of("src/test/resources/reference/frechet.json").toFile());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void diagonalCovariancesByHand() {
        // commuting diagonal covariances: tr((Σ1Σ2)^½) = Σ sqrt(a_i b_i), so
        // d² = |μ1 − μ2|² + Σ (sqrt a_i − sqrt b_i)² = (1 + 4) + ((2 − 1)² + (3 − 1)²) = 10
        double[][] a = {{4, 0}, {0, 9}}, b = {{1, 0}, {0, 1}};
        assertEquals(10, FrechetDistance.between(new double[]{1, 2}, a, new double[]{0, 0}, b), 1e-12);
    }

    @Test
    void aNonDiagonalPairByHand() {
        // Σ1 = R·diag(4, 1)·Rᵀ with R a 45° rotation, Σ2 = 4·Σ1: (Σ1Σ2)^½ = 2·Σ1, so
        // d² = tr(Σ1) + tr(4Σ1) − 4·tr(Σ1) = tr(Σ1) = 5
        double[][] s1 = {{2.5, 1.5}, {1.5, 2.5}}, s2 = {{10, 6}, {6, 10}};
        assertEquals(5, FrechetDistance.between(new double[]{3, 3}, s1, new double[]{3, 3}, s2), 1e-12);
        assertEquals(0, FrechetDistance.between(new double[]{3, 3}, s1, new double[]{3, 3}, s1), 1e-12);
    }

    @Test
    void matchesScipySqrtm() {
        int checked = 0;
        for (JsonNode c : FIXTURE.get("cases")) {
            int dim = c.get("dim").asInt();
            double fd = FrechetDistance.between(DigitsDitReference.doubles(c.get("mu1")), matrix(c.get("cov1")),
                    DigitsDitReference.doubles(c.get("mu2")), matrix(c.get("cov2")));
            // scipy's sqrtm loses ~1e-8 relative accuracy on the rank-deficient case (16 dims, rank 5)
            assertEquals(c.get("fd").asDouble(), fd, 1e-7 * c.get("fd").asDouble(), dim + " dimensions");
            checked++;
        }
        assertEquals(4, checked);
    }

    @Test
    void sampleStatisticsMatchNumpy() {
        JsonNode s = FIXTURE.get("samples");
        double[][] features = matrix(s.get("features"));
        int n = features.length, dim = features[0].length;
        float[] flat = new float[n * dim];
        for (int k = 0; k < n; k++) for (int i = 0; i < dim; i++) flat[k * dim + i] = (float) features[k][i];
        FeatureStatistics stats = FeatureStatistics.of(flat, n, dim);
        double[] mean = DigitsDitReference.doubles(s.get("mean"));
        double[][] cov = matrix(s.get("cov"));
        for (int i = 0; i < dim; i++) {
            assertEquals(mean[i], stats.mean()[i], 1e-6, "mean " + i); // features pass through float
            for (int j = 0; j < dim; j++) assertEquals(cov[i][j], stats.cov()[i][j], 1e-5 * (1 + Math.abs(cov[i][j])), "cov " + i + "," + j);
        }
        assertEquals(n, stats.count());
    }

    @Test
    void eigendecompositionReconstructsTheMatrix() {
        double[][] m = matrix(FIXTURE.get("cases").get(2).get("cov1")); // 64 x 64
        SymmetricEigen e = SymmetricEigen.of(m);
        int n = m.length;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0, dot = 0;
                for (int k = 0; k < n; k++) {
                    sum += e.values()[k] * e.vectors()[k][i] * e.vectors()[k][j];
                    dot += e.vectors()[i][k] * e.vectors()[j][k];
                }
                assertEquals(m[i][j], sum, 1e-10, "QΛQᵀ at " + i + "," + j);
                assertEquals(i == j ? 1 : 0, dot, 1e-10, "orthonormal at " + i + "," + j);
            }
        }
    }

    @Test
    void mismatchedInputsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> FrechetDistance.between(new double[2], new double[2][2], new double[3], new double[3][3]));
        assertThrows(IllegalArgumentException.class, () -> SymmetricEigen.of(new double[][]{{1, 2}, {0, 1}}));
        assertThrows(IllegalArgumentException.class, () -> new FeatureStatistics(new double[2], new double[2][3], 10));
    }

    static double[][] matrix(JsonNode rows) {
        double[][] m = new double[rows.size()][];
        for (int i = 0; i < m.length; i++) m[i] = DigitsDitReference.doubles(rows.get(i));
        return m;
    }
}
