package io.headgate.effect;

import java.util.Arrays;

/**
 * McNemar's exact test for two steerings scored on the same probes: the outcomes are paired, so
 * only the discordant probes carry information. Of the {@code b + c} probes where the two differ,
 * {@code b} are right only under the first steering and {@code c} only under the second; under the
 * null hypothesis (no difference) each discordant probe falls either way with probability ½, so
 * {@code b ~ Binomial(b + c, ½)} and the two-sided p-value is {@code min(1, 2·P(X ≤ min(b, c)))}.
 *
 * @param b     probes answered correctly under the first steering only
 * @param c     probes answered correctly under the second steering only
 * @param z     {@code (c − b) / √(b + c)}, the signed root of McNemar's statistic (0 without discordant probes): its
 *              sign says which steering did better
 * @param pValue exact, two-sided
 */
public record McNemarTest(int b, int c, double z, double pValue) {

    public static final String NAME = "McNemar's exact test on the probes both arms ran (paired; two-sided, "
            + "binomial on the discordant probes), each arm against the first";

    /** Compares two runs of the same probes, outcome {@code i} of each being probe {@code i}'s. */
    public static McNemarTest of(boolean[] first, boolean[] second) {
        if (first.length != second.length) {
            throw new IllegalArgumentException("paired outcomes need the same probes: " + first.length + " and " + second.length);
        }
        int b = 0, c = 0;
        for (int i = 0; i < first.length; i++) {
            if (first[i] && !second[i]) b++;
            if (!first[i] && second[i]) c++;
        }
        return of(b, c);
    }

    public static McNemarTest of(int b, int c) {
        int n = b + c;
        if (n == 0) return new McNemarTest(b, c, 0, 1);
        return new McNemarTest(b, c, (c - b) / Math.sqrt(n), Math.min(1, 2 * binomialCdfHalf(Math.min(b, c), n)));
    }

    /**
     * P(X ≤ k) for X ~ Binomial(n, ½). Up to n = 1000 the terms C(n, i)/2^n are summed as they are
     * (each from the last by a factor (n − i + 1)/i; small tables come out exact); past that 2^−n
     * would underflow a double, and the sum runs in log space.
     */
    static double binomialCdfHalf(int k, int n) {
        if (n <= 1000) {
            double term = Math.scalb(1.0, -n), sum = term;
            for (int i = 1; i <= k; i++) {
                term = term * (n - i + 1) / i;
                sum += term;
            }
            return sum;
        }
        double[] logChoose = new double[k + 1]; // log C(n, i)
        for (int i = 1; i <= k; i++) logChoose[i] = logChoose[i - 1] + Math.log(n - i + 1) - Math.log(i);
        double max = Arrays.stream(logChoose).max().orElseThrow(), sum = 0;
        for (double t : logChoose) sum += Math.exp(t - max);
        return Math.exp(max + Math.log(sum) - n * Math.log(2));
    }
}
