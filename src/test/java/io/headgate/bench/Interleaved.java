package io.headgate.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Two things measured in alternating blocks — A B B A A B ... — so both sides of a ratio see the
 * same machine within a fraction of a second of each other; each adjacent pair gives one ratio, and the
 * figure is the median of those ratios with their interquartile range. Machine noise that lasts
 * longer than a block moves both sides of a pair alike.
 *
 * <p>Every block lasts {@link #BLOCK_SECONDS} at least, its measurement repeated as often as that
 * takes: a block of one short stream (milliseconds on a small model) would otherwise fall inside
 * one or two of the kernel's time slices, and on a busy machine whether a slice went to another
 * process decides the block, not what it measures.
 */
final class Interleaved {
    private Interleaved() {
    }

    /** The shortest block: many time slices of a core shared with another process. */
    static final double BLOCK_SECONDS = 0.2;

    /** One measurement: its value (seconds per token, tokens per second, ...). */
    interface Block {
        double measure() throws Exception;
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

    /** {@code run} called over and over for {@link #BLOCK_SECONDS} (once at least): its values. */
    static <T> List<T> block(Callable<T> run) throws Exception {
        List<T> out = new ArrayList<>();
        long end = System.nanoTime() + (long) (BLOCK_SECONDS * 1e9);
        do out.add(run.call()); while (System.nanoTime() < end);
        return out;
    }

    /** A block of {@code b}'s measurement repeated for {@link #BLOCK_SECONDS}: the mean of its values. */
    static Block lasting(Block b) {
        return () -> block(b::measure).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    }

    /** {@code pairs} ratios A/B, each of two blocks of {@link #BLOCK_SECONDS}, after {@code warmUp} blocks of each. */
    static List<Double> ratios(Block shortA, Block shortB, int warmUp, int pairs) throws Exception {
        Block a = lasting(shortA), b = lasting(shortB);
        for (int i = 0; i < warmUp; i++) {
            a.measure();
            b.measure();
        }
        List<Double> out = new ArrayList<>(pairs);
        for (int i = 0; i < pairs; i++) {
            double x, y;
            if (i % 2 == 0) { // A B, then B A: neither side always goes first
                x = a.measure();
                y = b.measure();
            } else {
                y = b.measure();
                x = a.measure();
            }
            out.add(x / y);
        }
        return out;
    }
}
