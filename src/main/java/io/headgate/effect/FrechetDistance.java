package io.headgate.effect;

/**
 * The Fréchet distance between two Gaussians (the FID formula, here on a classifier's features):
 * {@code d² = |μ₁ − μ₂|² + tr(Σ₁) + tr(Σ₂) − 2·tr((Σ₁Σ₂)^½)}.
 * <p>
 * The trace of the square root without a general matrix square root: Σ₁Σ₂ is similar to the symmetric
 * positive semi-definite {@code M = Σ₁^½ Σ₂ Σ₁^½} (AB and BA have the same eigenvalues, with
 * A = Σ₁^½, B = Σ₁^½Σ₂), so {@code tr((Σ₁Σ₂)^½) = Σ_k sqrt(λ_k(M))}. Σ₁^½ comes from the symmetric
 * eigendecomposition Σ₁ = QΛQᵀ as Q·Λ^½·Qᵀ, and λ(M) from a second one ({@link SymmetricEigen}).
 * Eigenvalues that rounding pushes below zero count as zero (both matrices are PSD).
 */
public final class FrechetDistance {
    private FrechetDistance() {
    }

    public static double between(FeatureStatistics a, FeatureStatistics b) {
        return between(a.mean(), a.cov(), b.mean(), b.cov());
    }

    public static double between(double[] mean1, double[][] cov1, double[] mean2, double[][] cov2) {
        int n = mean1.length;
        if (mean2.length != n || cov1.length != n || cov2.length != n) {
            throw new IllegalArgumentException("dimensions differ: means " + n + " and " + mean2.length + ", covariances " + cov1.length + " and " + cov2.length);
        }
        double meanTerm = 0;
        for (int i = 0; i < n; i++) meanTerm += (mean1[i] - mean2[i]) * (mean1[i] - mean2[i]);
        double traces = 0;
        for (int i = 0; i < n; i++) traces += cov1[i][i] + cov2[i][i];
        return meanTerm + traces - 2 * traceOfSqrtProduct(cov1, cov2);
    }

    /** tr((Σ₁Σ₂)^½) for symmetric PSD Σ₁, Σ₂. */
    static double traceOfSqrtProduct(double[][] cov1, double[][] cov2) {
        double[][] root = sqrt(cov1);
        double[][] m = multiply(multiply(root, cov2), root);
        int n = m.length;
        for (int i = 0; i < n; i++) { // symmetric up to rounding: make it exactly so
            for (int j = i + 1; j < n; j++) {
                double avg = (m[i][j] + m[j][i]) / 2;
                m[i][j] = avg;
                m[j][i] = avg;
            }
        }
        double trace = 0;
        for (double lambda : SymmetricEigen.of(m).values()) trace += Math.sqrt(Math.max(0, lambda));
        return trace;
    }

    /** The PSD square root Q·Λ^½·Qᵀ of a symmetric PSD matrix. */
    static double[][] sqrt(double[][] cov) {
        SymmetricEigen e = SymmetricEigen.of(cov);
        int n = cov.length;
        double[][] out = new double[n][n];
        for (int k = 0; k < n; k++) {
            double r = Math.sqrt(Math.max(0, e.values()[k]));
            double[] q = e.vectors()[k];
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) out[i][j] += r * q[i] * q[j];
        }
        return out;
    }

    private static double[][] multiply(double[][] a, double[][] b) {
        int n = a.length;
        double[][] out = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < n; k++) {
                double aik = a[i][k];
                for (int j = 0; j < n; j++) out[i][j] += aik * b[k][j];
            }
        }
        return out;
    }
}
