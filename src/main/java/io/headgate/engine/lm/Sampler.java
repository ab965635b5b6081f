package io.headgate.engine.lm;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Per-stream sampler; deterministic for a given seed: the same seed and the same logits sequence
 * give the same tokens. Not thread-safe: it owns one random generator and reuses scratch arrays
 * sized to the vocabulary, so one stream's decode loop uses one instance.
 *
 * <p>Greedy sampling draws nothing; every non-greedy call draws exactly one double, so a stream's
 * draws stay aligned with its tokens whatever the filters keep.
 */
public final class Sampler {

    private final SamplingParams params;
    // SplittableRandom's algorithm is fixed by its specification, so a seed replays on any JDK.
    private final SplittableRandom random;

    // Candidates as sort keys (see key()) and their unnormalized weights; grown, never shrunk.
    private long[] keys = new long[0];
    private double[] weights = new double[0];

    public Sampler(SamplingParams params) {
        if (params == null) throw new IllegalArgumentException("sampling params must not be null");
        this.params = params;
        this.random = new SplittableRandom(params.seed());
    }

    public SamplingParams params() {
        return params;
    }

    /**
     * Picks a token from {@code logits[offset .. offset + vocab)} (absolute buffer indices; the
     * buffer's position is ignored and left alone).
     *
     * @throws IllegalArgumentException if the row is out of bounds, holds NaN or +Infinity, or has
     *                                  no finite logit: there is no distribution to sample from
     */
    public Sample sample(FloatBuffer logits, int offset, int vocab) {
        if (vocab <= 0 || offset < 0 || (long) offset + vocab > logits.limit()) {
            throw new IllegalArgumentException("logits row [" + offset + ", " + ((long) offset + vocab)
                    + ") does not fit a buffer of " + logits.limit());
        }
        int argmax = 0;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            float x = logits.get(offset + i);
            if (Float.isNaN(x) || x == Float.POSITIVE_INFINITY) {
                throw new IllegalArgumentException("logit " + i + " is " + x);
            }
            if (x > max) {  // strict: the lowest id wins ties
                max = x;
                argmax = i;
            }
        }
        if (max == Float.NEGATIVE_INFINITY) {
            throw new IllegalArgumentException("every logit is -Infinity");
        }
        double logSumExp = logSumExp(logits, offset, vocab, max);

        int token = params.isGreedy() ? argmax : draw(logits, offset, vocab, max);
        return new Sample(token, (float) (logits.get(offset + token) - logSumExp));
    }

    /** Log of the softmax normalizer at temperature 1, shifted by the maximum so nothing overflows. */
    private static double logSumExp(FloatBuffer logits, int offset, int vocab, float max) {
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            sum += Math.exp((double) logits.get(offset + i) - max);
        }
        return max + Math.log(sum);
    }

    private int draw(FloatBuffer logits, int offset, int vocab, float max) {
        double invT = 1.0 / params.temperature();
        int k = params.topK();
        boolean topK = k > 0 && k < vocab;
        boolean topP = params.topPActive();
        double u = random.nextDouble();

        if (!topK && !topP) {
            return drawFullVocabulary(logits, offset, vocab, max, invT, u);
        }

        int n;
        double normalizer;
        if (topK) {
            n = selectTopK(logits, offset, vocab, k);
            normalizer = Double.NaN;  // the kept candidates are renormalized among themselves below
        } else {
            normalizer = 0;
            for (int i = 0; i < vocab; i++) {
                normalizer += weight(logits.get(offset + i), max, invT);
            }
            n = selectAboveNucleusFloor(logits, offset, vocab, max, invT, normalizer);
        }
        Arrays.sort(keys, 0, n);  // most probable first, lowest id first among equals

        ensureWeights(n);
        double kept = 0;
        for (int j = 0; j < n; j++) {
            weights[j] = weight(logits.get(offset + index(keys[j])), max, invT);
            kept += weights[j];
        }
        if (topK) normalizer = kept;

        if (topP) {
            // The smallest most-probable prefix whose mass reaches p; the whole candidate set if
            // rounding keeps it just short.
            double target = params.topP() * normalizer;
            double cumulative = 0;
            for (int j = 0; j < n; j++) {
                cumulative += weights[j];
                if (cumulative >= target) {
                    n = j + 1;
                    break;
                }
            }
            kept = 0;
            for (int j = 0; j < n; j++) kept += weights[j];
        }

        double threshold = u * kept;
        double cumulative = 0;
        int lastPositive = 0;
        for (int j = 0; j < n; j++) {
            if (weights[j] == 0) continue;
            cumulative += weights[j];
            lastPositive = j;
            if (threshold < cumulative) return index(keys[j]);
        }
        return index(keys[lastPositive]);  // rounding: the sum fell just short of the total
    }

    /** Inverse-CDF draw over the whole vocabulary without sorting. */
    private static int drawFullVocabulary(FloatBuffer logits, int offset, int vocab, float max, double invT, double u) {
        double total = 0;
        for (int i = 0; i < vocab; i++) {
            total += weight(logits.get(offset + i), max, invT);
        }
        double threshold = u * total;
        double cumulative = 0;
        int lastPositive = -1;
        for (int i = 0; i < vocab; i++) {
            double w = weight(logits.get(offset + i), max, invT);
            if (w == 0) continue;
            cumulative += w;
            lastPositive = i;
            if (threshold < cumulative) return i;
        }
        return lastPositive;  // rounding: the sum fell just short of the total
    }

    /** exp((x - max) / T) in double; the maximum maps to 1, so the sum never overflows. */
    private static double weight(float x, float max, double invT) {
        return Math.exp(((double) x - max) * invT);
    }

    /**
     * Keeps the k best keys in keys[0..k) with a max-heap on the key (the worst kept candidate at
     * the root): O(vocab log k) instead of sorting the whole vocabulary.
     */
    private int selectTopK(FloatBuffer logits, int offset, int vocab, int k) {
        ensureKeys(k);
        for (int i = 0; i < k; i++) {
            keys[i] = key(logits.get(offset + i), i);
            siftUp(i);
        }
        for (int i = k; i < vocab; i++) {
            long key = key(logits.get(offset + i), i);
            if (key < keys[0]) {
                keys[0] = key;
                siftDown(k);
            }
        }
        return k;
    }

    /**
     * Collects the tokens whose probability is at least (1 - p) / (2 vocab). Everything below that
     * floor sums to at most (1 - p) / 2, so the nucleus lies inside what is collected, and a peaked
     * distribution leaves only a few candidates to sort.
     */
    private int selectAboveNucleusFloor(FloatBuffer logits, int offset, int vocab, float max, double invT,
                                        double normalizer) {
        ensureKeys(vocab);
        double floor = (1.0 - params.topP()) / (2.0 * vocab) * normalizer;
        int n = 0;
        for (int i = 0; i < vocab; i++) {
            float x = logits.get(offset + i);
            if (weight(x, max, invT) >= floor) keys[n++] = key(x, i);
        }
        return n;
    }

    private void siftUp(int i) {
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (keys[parent] >= keys[i]) return;
            swap(parent, i);
            i = parent;
        }
    }

    private void siftDown(int size) {
        int i = 0;
        while (true) {
            int left = 2 * i + 1;
            if (left >= size) return;
            int larger = left + 1 < size && keys[left + 1] > keys[left] ? left + 1 : left;
            if (keys[i] >= keys[larger]) return;
            swap(i, larger);
            i = larger;
        }
    }

    private void swap(int a, int b) {
        long t = keys[a];
        keys[a] = keys[b];
        keys[b] = t;
    }

    /**
     * A key whose ascending order is descending logit, then ascending id, so sorting primitive longs
     * orders candidates without boxing. The high half is the logit's bits made order-preserving as a
     * signed int, then complemented to reverse the order; the low half is the id.
     */
    private static long key(float logit, int id) {
        int bits = Float.floatToIntBits(logit + 0.0f);  // + 0.0f folds -0.0 into 0.0, as > does
        int ordered = bits ^ ((bits >> 31) & 0x7fffffff);
        return ((long) ~ordered << 32) | id;
    }

    private static int index(long key) {
        return (int) key;
    }

    private void ensureKeys(int n) {
        if (keys.length < n) keys = new long[n];
    }

    private void ensureWeights(int n) {
        if (weights.length < n) weights = new double[n];
    }
}
