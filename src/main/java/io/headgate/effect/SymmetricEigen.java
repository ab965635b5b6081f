package io.headgate.effect;

/**
 * Eigenvalues and eigenvectors of a real symmetric matrix by the cyclic Jacobi method: sweep over
 * every off-diagonal pair (p, q), and rotate rows and columns p, q by the angle that zeroes a[p][q]
 * (Golub &amp; Van Loan, Matrix Computations, §8.5); the sum of squared off-diagonal entries falls
 * with every rotation, quadratically once small. Stops when it is below 1e-30 of the squared
 * Frobenius norm, or after 100 sweeps. Slow for large n (O(n³) per sweep) and accurate: right for
 * the 64 × 64 feature covariances here.
 *
 * @param values  eigenvalues, unordered
 * @param vectors vectors[k] is the unit eigenvector of values[k]
 */
public record SymmetricEigen(double[] values, double[][] vectors) {

    private static final int MAX_SWEEPS = 100;

    public static SymmetricEigen of(double[][] matrix) {
        int n = matrix.length;
        double[][] a = new double[n][];
        double norm = 0;
        for (int i = 0; i < n; i++) {
            if (matrix[i].length != n) throw new IllegalArgumentException("matrix is not square: row " + i + " has " + matrix[i].length + " values, not " + n);
            a[i] = matrix[i].clone();
            for (int j = 0; j < n; j++) {
                if (Math.abs(matrix[i][j] - matrix[j][i]) > 1e-9 * (Math.abs(matrix[i][j]) + Math.abs(matrix[j][i]) + 1e-300)) {
                    throw new IllegalArgumentException("matrix is not symmetric at (" + i + ", " + j + ")");
                }
                norm += matrix[i][j] * matrix[i][j];
            }
        }
        double[][] v = new double[n][n]; // columns of v are the eigenvectors
        for (int i = 0; i < n; i++) v[i][i] = 1;
        for (int sweep = 0; sweep < MAX_SWEEPS && offDiagonal(a) > 1e-30 * norm; sweep++) {
            for (int p = 0; p < n - 1; p++) {
                for (int q = p + 1; q < n; q++) {
                    if (a[p][q] != 0) rotate(a, v, p, q);
                }
            }
        }
        double[] values = new double[n];
        double[][] vectors = new double[n][n];
        for (int k = 0; k < n; k++) {
            values[k] = a[k][k];
            for (int i = 0; i < n; i++) vectors[k][i] = v[i][k];
        }
        return new SymmetricEigen(values, vectors);
    }

    private static double offDiagonal(double[][] a) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) for (int j = 0; j < a.length; j++) if (i != j) sum += a[i][j] * a[i][j];
        return sum;
    }

    /** Zeroes a[p][q] by A ← JᵀAJ with the Jacobi rotation J in the (p, q) plane; accumulates V ← VJ. */
    private static void rotate(double[][] a, double[][] v, int p, int q) {
        double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        // the smaller root of t² + 2θt − 1 = 0, so the rotation angle is at most π/4
        double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        if (theta == 0) t = 1;
        double c = 1 / Math.sqrt(t * t + 1), s = t * c;
        int n = a.length;
        for (int k = 0; k < n; k++) { // columns p and q
            double akp = a[k][p], akq = a[k][q];
            a[k][p] = c * akp - s * akq;
            a[k][q] = s * akp + c * akq;
        }
        for (int k = 0; k < n; k++) { // rows p and q
            double apk = a[p][k], aqk = a[q][k];
            a[p][k] = c * apk - s * aqk;
            a[q][k] = s * apk + c * aqk;
        }
        a[p][q] = 0;
        a[q][p] = 0;
        for (int k = 0; k < n; k++) {
            double vkp = v[k][p], vkq = v[k][q];
            v[k][p] = c * vkp - s * vkq;
            v[k][q] = s * vkp + c * vkq;
        }
    }
}
