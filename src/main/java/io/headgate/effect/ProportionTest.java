package io.headgate.effect;

/**
 * Two-sided two-proportion z-test with the pooled proportion: is accuracy c1/n1 different from
 * c0/n0? Normal approximation, fine for canary sets of tens to hundreds of probes per arm.
 */
public record ProportionTest(double z, double pValue) {

    public static final String NAME = "two-proportion z-test (pooled variance), two-sided";

    public static ProportionTest of(int correct0, int n0, int correct1, int n1) {
        if (n0 <= 0 || n1 <= 0) return new ProportionTest(0, 1);
        double p0 = (double) correct0 / n0, p1 = (double) correct1 / n1;
        double pooled = (double) (correct0 + correct1) / (n0 + n1);
        double se = Math.sqrt(pooled * (1 - pooled) * (1.0 / n0 + 1.0 / n1));
        if (se == 0) return new ProportionTest(0, p0 == p1 ? 1 : 0);
        double z = (p1 - p0) / se;
        return new ProportionTest(z, z == 0 ? 1 : Math.min(1, erfc(Math.abs(z) / Math.sqrt(2)))); // the approximation is 1 - 1e-9 at 0
    }

    /** Complementary error function, Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7). */
    static double erfc(double x) {
        double t = 1 / (1 + 0.3275911 * x);
        double poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        return poly * Math.exp(-x * x);
    }
}
