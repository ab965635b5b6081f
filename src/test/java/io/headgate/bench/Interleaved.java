package io.headgate.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * Two things measured in alternating short blocks — A B B A A B ... — so both sides of a ratio see
 * the same machine within milliseconds of each other; each adjacent pair gives one ratio, and the
 * figure is the median of those ratios with their interquartile range. Machine noise that lasts
 * longer than a block moves both sides of a pair alike.
 */
final class Interleaved {
    private Interleaved() {
    }

    /** One short block of a measurement: its value (seconds per token, tokens per second, ...). */
    interface Block {
        double measure() throws Exception;
    }

    /** What a pair of blocks gives: usually {@code a / b}. */
    interface PairValue {
        double of(double a, double b);
    }

    /**
     * Runs {@code b} over and over for {@code seconds} (once at least), unmeasured, so that the code it
     * runs is compiled before it is timed; its first and last values, to show what warming did.
     */
    static double[] warm(Block b, double seconds) throws Exception {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        double first = b.measure(), last = first;
        while (System.nanoTime() < end) last = b.measure();
        return new double[]{first, last};
    }

    /** {@code pairs} ratios A/B after {@code warmUp} blocks of each. */
    static List<Double> ratios(Block a, Block b, int warmUp, int pairs) throws Exception {
        return pairs(a, b, warmUp, pairs, 0, (x, y) -> x / y);
    }

    /** At least {@code pairs} ratios A/B, and more until {@code seconds} have passed (short blocks: many pairs). */
    static List<Double> ratios(Block a, Block b, int warmUp, int pairs, double seconds) throws Exception {
        return pairs(a, b, warmUp, pairs, seconds, (x, y) -> x / y);
    }

    static List<Double> pairs(Block a, Block b, int warmUp, int pairs, double seconds, PairValue value) throws Exception {
        for (int i = 0; i < warmUp; i++) {
            a.measure();
            b.measure();
        }
        List<Double> out = new ArrayList<>(pairs);
        long end = System.nanoTime() + (long) (seconds * 1e9);
        for (int i = 0; i < pairs || System.nanoTime() < end; i++) {
            double x, y;
            if (i % 2 == 0) { // A B, then B A: neither side always goes first
                x = a.measure();
                y = b.measure();
            } else {
                y = b.measure();
                x = a.measure();
            }
            out.add(value.of(x, y));
        }
        return out;
    }
}
