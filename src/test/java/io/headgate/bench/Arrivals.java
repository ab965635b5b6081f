package io.headgate.bench;

import io.headgate.api.v1.Start;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Streams arriving at random times, as a Poisson process, with prompts of mixed lengths: the load a
 * served model sees, where a burst of simultaneous starts is rare and a long prompt arrives while
 * others decode. The rate is set by Little's law for a target number of streams in flight.
 */
final class Arrivals {
    private Arrivals() {
    }

    /** Prompt lengths and how often each arrives. */
    record PromptMix(int[] lengths, double[] weights) {
        int draw(Random random) {
            double u = random.nextDouble(), sum = 0;
            for (int i = 0; i < lengths.length; i++) {
                sum += weights[i];
                if (u < sum) return lengths[i];
            }
            return lengths[lengths.length - 1];
        }

        String describe() {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < lengths.length; i++) {
                if (i > 0) b.append(", ");
                b.append(String.format("%.0f%% %d", 100 * weights[i], lengths[i]));
            }
            return b + " tokens";
        }
    }

    /** Start offsets (nanoseconds, ascending) and the streams started at them. */
    record Schedule(List<Long> offsets, List<Start> starts) {
        /** The same arrivals sent to another model. */
        Schedule onModel(String model) {
            return new Schedule(offsets, starts.stream().map(s -> s.toBuilder().setModel(model).build()).toList());
        }
    }

    /** {@code count} streams at {@code perSecond} on average; prompts drawn from {@code mix}, {@code tokens} generated each. */
    static Schedule poisson(long seed, double perSecond, int count, String model, PromptMix mix, int tokens, int vocab) {
        Random random = new Random(seed);
        List<Long> offsets = new ArrayList<>();
        List<Start> starts = new ArrayList<>();
        double t = 0;
        for (int i = 0; i < count; i++) {
            t += -Math.log(1 - random.nextDouble()) / perSecond;
            offsets.add((long) (t * 1e9));
            starts.add(BenchmarkSuite.start(model, prompt(random, mix.draw(random), vocab), tokens));
        }
        return new Schedule(offsets, starts);
    }

    static long[] prompt(Random random, int length, int vocab) {
        long[] ids = new long[length];
        for (int i = 0; i < length; i++) ids[i] = 3 + random.nextInt(Math.min(vocab, 20) - 3);
        return ids;
    }

    /**
     * What one schedule's run gave, from the client's timestamps, over its streams after the first
     * {@code skip} (the ramp); streams in flight also over the window's first and last quarters, which
     * differ where the queue grows through the run.
     */
    record Outcome(double tokensPerSecond, double inFlight, double inFlightFirstQuarter, double inFlightLastQuarter,
                   List<Double> gapsMs, List<Double> firstTokenMs) {
        static Outcome of(List<GatewayProcess.Run> runs, int skip) {
            List<GatewayProcess.Run> measured = runs.subList(skip, runs.size());
            long from = measured.getFirst().startNanos, to = runs.getLast().startNanos, quarter = (to - from) / 4;
            long tokens = 0;
            for (GatewayProcess.Run r : runs) for (long a : r.arrivals) if (a > from && a <= to) tokens++;
            List<Double> gaps = new ArrayList<>(), first = new ArrayList<>();
            for (GatewayProcess.Run r : measured) {
                first.add((r.arrivals.getFirst() - r.startNanos) / 1e6);
                for (int i = 1; i < r.arrivals.size(); i++) gaps.add((r.arrivals.get(i) - r.arrivals.get(i - 1)) / 1e6);
            }
            return new Outcome(tokens / ((to - from) / 1e9), inFlight(runs, from, to), inFlight(runs, from, from + quarter),
                    inFlight(runs, to - quarter, to), gaps, first);
        }

        /** The mean number of streams between their start and their last token over [from, to]. */
        private static double inFlight(List<GatewayProcess.Run> runs, long from, long to) {
            long busy = 0;
            for (GatewayProcess.Run r : runs) {
                long end = r.arrivals.isEmpty() ? r.startNanos : r.arrivals.getLast();
                busy += Math.max(0, Math.min(end, to) - Math.max(r.startNanos, from));
            }
            return (double) busy / (to - from);
        }
    }
}
