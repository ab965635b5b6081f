package io.headgate.discovery.directions;

import io.headgate.steer.HeadBias;
import io.headgate.steer.ProfileSpec;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Per-head mean-difference directions between two classes of head outputs (SPACE / ITI), for
 * {@code layers × heads} heads of {@code headDim} values each. For head i:
 *
 * <ul>
 *   <li>{@code unit[i]}: the positive class's mean minus the negative class's, on the training
 *       split, scaled to length 1 (all zeros when the means coincide);</li>
 *   <li>{@code spread[i]}: the standard deviation (population) of the training examples'
 *       projections onto {@code unit[i]}, both classes pooled — the scale a bias along it is given in;</li>
 *   <li>{@code separation[i]}: the distance between the class means along {@code unit[i]}, in units
 *       of {@code spread[i]} (0 when the spread is 0);</li>
 *   <li>{@code separability[i]}: on the validation split, never used for the means, the balanced
 *       accuracy (mean of the two classes' hit rates, so chance is 0.5 whatever the class sizes) of
 *       calling an example positive when its projection lies above the midpoint of the training class
 *       means; 0.5 for a head without a direction.</li>
 * </ul>
 */
public record HeadDirections(int layers, int heads, int headDim, double[][] unit, double[] spread, double[] separation,
                             double[] separability) {

    public HeadDirections {
        int n = layers * heads;
        if (unit.length != n || spread.length != n || separation.length != n || separability.length != n) {
            throw new IllegalArgumentException("tables must hold layers × heads = " + n + " entries");
        }
    }

    /**
     * Fits every head's direction. Each example is one prompt's head outputs, {@code [layers, heads,
     * headDim]} row-major, as {@code HeadScan.lastPositionHeads} returns them.
     */
    public static HeadDirections fit(int layers, int heads, int headDim, List<float[]> trainPositive, List<float[]> trainNegative,
                                     List<float[]> validationPositive, List<float[]> validationNegative) {
        if (trainPositive.isEmpty() || trainNegative.isEmpty()) throw new IllegalArgumentException("each class needs training examples");
        if (validationPositive.isEmpty() || validationNegative.isEmpty()) {
            throw new IllegalArgumentException("each class needs validation examples");
        }
        int n = layers * heads, size = n * headDim;
        for (List<float[]> set : List.of(trainPositive, trainNegative, validationPositive, validationNegative)) {
            for (float[] example : set) {
                if (example.length != size) throw new IllegalArgumentException("an example has " + example.length + " values, not " + size);
            }
        }
        double[][] unit = new double[n][];
        double[] spread = new double[n], separation = new double[n], separability = new double[n];
        for (int h = 0; h < n; h++) {
            int from = h * headDim;
            double[] positiveMean = mean(trainPositive, from, headDim), negativeMean = mean(trainNegative, from, headDim);
            double[] direction = new double[headDim];
            double length = 0;
            for (int d = 0; d < headDim; d++) {
                direction[d] = positiveMean[d] - negativeMean[d];
                length += direction[d] * direction[d];
            }
            length = Math.sqrt(length);
            if (length == 0) {
                unit[h] = direction;
                separability[h] = 0.5;
                continue;
            }
            for (int d = 0; d < headDim; d++) direction[d] /= length;
            unit[h] = direction;

            double sum = 0, squares = 0;
            int count = 0;
            for (List<float[]> set : List.of(trainPositive, trainNegative)) {
                for (float[] example : set) {
                    double p = project(example, from, direction);
                    sum += p;
                    squares += p * p;
                    count++;
                }
            }
            double mean = sum / count;
            spread[h] = Math.sqrt(Math.max(0, squares / count - mean * mean));
            // the class means' projections differ by exactly the length of their difference
            separation[h] = spread[h] > 0 ? length / spread[h] : 0;

            double midpoint = (dot(positiveMean, direction) + dot(negativeMean, direction)) / 2;
            double positiveHits = validationPositive.stream().filter(e -> project(e, from, direction) > midpoint).count();
            double negativeHits = validationNegative.stream().filter(e -> project(e, from, direction) <= midpoint).count();
            separability[h] = (positiveHits / validationPositive.size() + negativeHits / validationNegative.size()) / 2;
        }
        return new HeadDirections(layers, heads, headDim, unit, spread, separation, separability);
    }

    /** Head indices (layer · heads + head), best first: by separability, then separation, then index. */
    public List<Integer> ranking() {
        return IntStream.range(0, layers * heads).boxed()
                .sorted(Comparator.<Integer>comparingDouble(i -> -separability[i]).thenComparingDouble(i -> -separation[i])
                        .thenComparingInt(i -> i))
                .toList();
    }

    /** The head bias {@code alpha · spread · unit} on each of {@code chosen} (head indices). */
    public ProfileSpec profile(List<Integer> chosen, double alpha, String description) {
        List<HeadBias> biases = new ArrayList<>(chosen.size());
        for (int h : chosen) {
            float[] vector = new float[headDim];
            for (int d = 0; d < headDim; d++) vector[d] = (float) (alpha * spread[h] * unit[h][d]);
            biases.add(new HeadBias(h / heads, h % heads, vector));
        }
        return new ProfileSpec(description, List.of(), biases, List.of());
    }

    private static double[] mean(List<float[]> examples, int from, int length) {
        double[] mean = new double[length];
        for (float[] e : examples) for (int d = 0; d < length; d++) mean[d] += e[from + d];
        for (int d = 0; d < length; d++) mean[d] /= examples.size();
        return mean;
    }

    private static double project(float[] example, int from, double[] direction) {
        double p = 0;
        for (int d = 0; d < direction.length; d++) p += example[from + d] * direction[d];
        return p;
    }

    private static double dot(double[] a, double[] b) {
        double p = 0;
        for (int d = 0; d < a.length; d++) p += a[d] * b[d];
        return p;
    }
}
