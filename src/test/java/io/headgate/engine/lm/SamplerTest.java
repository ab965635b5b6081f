package io.headgate.engine.lm;

import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class SamplerTest {

    private static final float[] PEAKED = {0.5f, 3.0f, -1.0f, 2.0f, 3.0f, 0.1f};

    @Test
    void paramsRejectOutOfRangeValuesNamingTheField() {
        assertThatThrownBy(() -> new SamplingParams(-0.1f, 0, 0, 1)).hasMessageContaining("temperature");
        assertThatThrownBy(() -> new SamplingParams(Float.NaN, 0, 0, 1)).hasMessageContaining("temperature");
        assertThatThrownBy(() -> new SamplingParams(Float.POSITIVE_INFINITY, 0, 0, 1)).hasMessageContaining("temperature");
        assertThatThrownBy(() -> new SamplingParams(1f, -1, 0, 1)).hasMessageContaining("top_k");
        assertThatThrownBy(() -> new SamplingParams(1f, 0, 1.5f, 1)).hasMessageContaining("top_p");
        assertThatThrownBy(() -> new SamplingParams(1f, 0, -0.5f, 1)).hasMessageContaining("top_p");
        assertThatThrownBy(() -> new SamplingParams(1f, 0, Float.NaN, 1)).hasMessageContaining("top_p");
        assertThat(SamplingParams.greedy().temperature()).isZero();
    }

    @Test
    void greedyPicksTheArgmaxAndTheLowestIdOnTies() {
        Sampler sampler = new Sampler(SamplingParams.greedy());
        assertThat(sampler.sample(FloatBuffer.wrap(PEAKED), 0, PEAKED.length).token()).isEqualTo(1);
        assertThat(sampler.sample(FloatBuffer.wrap(new float[]{-2f, 7f, 1f, 7.5f}), 0, 4).token()).isEqualTo(3);
        assertThat(sampler.sample(FloatBuffer.wrap(new float[]{4f, 4f, 4f}), 0, 3).token()).isZero();
        assertThat(sampler.sample(FloatBuffer.wrap(new float[]{-0.0f, 0.0f}), 0, 2).token()).isZero();
    }

    @Test
    void readsOnlyItsRowOfABatch() {
        // Row 0 peaks at its id 2, row 1 at its id 0; the buffer's position must not matter.
        FloatBuffer batch = FloatBuffer.wrap(new float[]{0f, 1f, 9f, 5f, 2f, 3f});
        batch.position(4);
        Sampler sampler = new Sampler(SamplingParams.greedy());
        assertThat(sampler.sample(batch, 0, 3).token()).isEqualTo(2);
        assertThat(sampler.sample(batch, 3, 3).token()).isEqualTo(0);
        assertThat(batch.position()).isEqualTo(4);
        assertThatThrownBy(() -> sampler.sample(batch, 4, 3)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void logprobIsTheLogSoftmaxOfTheRawLogits() {
        float[] logits = {12.5f, -3f, 40f, 39.25f, 0f, -80f, 38f};
        double max = 40;
        double sum = 0;
        for (float x : logits) sum += Math.exp(x - max);
        // Sampled at a high temperature with filters, the logprob still refers to the raw distribution.
        Sampler sampler = new Sampler(new SamplingParams(2.5f, 4, 0.9f, 7));
        for (int i = 0; i < 50; i++) {
            Sample s = sampler.sample(FloatBuffer.wrap(logits), 0, logits.length);
            double expected = logits[s.token()] - max - Math.log(sum);
            assertThat((double) s.logprob()).isCloseTo(expected, within(1e-6));
        }
        Sample greedy = new Sampler(SamplingParams.greedy()).sample(FloatBuffer.wrap(logits), 0, logits.length);
        assertThat((double) greedy.logprob()).isCloseTo(-Math.log(sum), within(1e-6));
    }

    @Test
    void logprobStaysFiniteForHugeLogits() {
        float[] logits = {1e30f, 1e30f - 1e24f, -1e30f};
        Sample s = new Sampler(SamplingParams.greedy()).sample(FloatBuffer.wrap(logits), 0, 3);
        assertThat(s.token()).isZero();
        assertThat(s.logprob()).isZero();
    }

    @Test
    void theSameSeedReplaysAndAnotherSeedDiffers() {
        List<float[]> rows = randomRows(200, 50, 42);
        SamplingParams params = new SamplingParams(1.0f, 0, 0, 1234);
        List<Integer> first = draw(new Sampler(params), rows);
        List<Integer> again = draw(new Sampler(params), rows);
        List<Integer> other = draw(new Sampler(new SamplingParams(1.0f, 0, 0, 1235)), rows);
        assertThat(again).isEqualTo(first);
        assertThat(other).isNotEqualTo(first);
        // The filtered paths replay too.
        SamplingParams filtered = new SamplingParams(0.8f, 10, 0.9f, 99);
        assertThat(draw(new Sampler(filtered), rows)).isEqualTo(draw(new Sampler(filtered), rows));
    }

    @Test
    void topKOneAndATinyTopPAreGreedy() {
        List<float[]> rows = randomRows(200, 50, 7);
        List<Integer> greedy = draw(new Sampler(SamplingParams.greedy()), rows);
        assertThat(draw(new Sampler(new SamplingParams(1.5f, 1, 0, 3)), rows)).isEqualTo(greedy);
        assertThat(draw(new Sampler(new SamplingParams(1.5f, 0, 1e-6f, 3)), rows)).isEqualTo(greedy);
        assertThat(draw(new Sampler(new SamplingParams(1.5f, 5, 1e-6f, 3)), rows)).isEqualTo(greedy);
        // Ties resolve like greedy: the lowest id.
        float[] tied = {1f, 5f, 5f, 0f};
        assertThat(new Sampler(new SamplingParams(1f, 1, 0, 3)).sample(FloatBuffer.wrap(tied), 0, 4).token()).isEqualTo(1);
    }

    @Test
    void frequenciesAtTemperatureOneMatchTheSoftmax() {
        float[] logits = {1.0f, 2.0f, 0.5f};
        double[] p = softmax(logits, 1.0);
        int[] counts = counts(new Sampler(new SamplingParams(1.0f, 0, 0, 2024)), logits, 20_000);
        assertMatches(counts, p, 20_000);
    }

    @Test
    void topKRenormalizesOverTheKeptTokens() {
        float[] logits = {1.0f, 2.0f, 0.5f, 1.5f};
        int[] counts = counts(new Sampler(new SamplingParams(1.0f, 2, 0, 5)), logits, 20_000);
        assertThat(counts[0]).isZero();
        assertThat(counts[2]).isZero();
        double[] p = softmax(new float[]{2.0f, 1.5f}, 1.0);
        assertMatches(new int[]{counts[1], counts[3]}, p, 20_000);
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        // Probabilities 0.5, 0.3, 0.15, 0.05: p = 0.7 needs the first two, p = 0.85 reaches the third.
        float[] logits = logitsOf(0.5, 0.3, 0.15, 0.05);
        int[] two = counts(new Sampler(new SamplingParams(1.0f, 0, 0.7f, 11)), logits, 20_000);
        assertThat(two[2]).isZero();
        assertThat(two[3]).isZero();
        assertMatches(new int[]{two[0], two[1]}, new double[]{0.5 / 0.8, 0.3 / 0.8}, 20_000);

        int[] three = counts(new Sampler(new SamplingParams(1.0f, 0, 0.85f, 11)), logits, 20_000);
        assertThat(three[3]).isZero();
        assertMatches(new int[]{three[0], three[1], three[2]}, new double[]{0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95}, 20_000);
    }

    @Test
    void aNucleusNearOneKeepsAFlatTail() {
        // 19 of 20 equally likely tokens hold 0.95 < 0.97, so the nucleus is the whole vocabulary.
        float[] flat = new float[20];
        int[] counts = counts(new Sampler(new SamplingParams(1.0f, 0, 0.97f, 17)), flat, 20_000);
        double[] p = new double[20];
        Arrays.fill(p, 1.0 / 20);
        assertMatches(counts, p, 20_000);
    }

    @Test
    void topPAppliesToTheTopKRenormalized() {
        // Probabilities 0.4, 0.3, 0.2, 0.1; top-2 renormalizes to 4/7, 3/7, so p = 0.5 keeps only the
        // first, where over the full vocabulary 0.4 alone would fall short of 0.5.
        float[] logits = logitsOf(0.4, 0.3, 0.2, 0.1);
        int[] counts = counts(new Sampler(new SamplingParams(1.0f, 2, 0.5f, 13)), logits, 1_000);
        assertThat(counts[0]).isEqualTo(1_000);
        int[] fullVocabulary = counts(new Sampler(new SamplingParams(1.0f, 0, 0.5f, 13)), logits, 1_000);
        assertThat(fullVocabulary[1]).isPositive();
        assertThat(fullVocabulary[2] + fullVocabulary[3]).isZero();
    }

    @Test
    void aHigherTemperatureSpreadsTheDraws() {
        float[] logits = {3.0f, 1.0f, 0.0f, -1.0f};
        double cold = entropy(counts(new Sampler(new SamplingParams(0.5f, 0, 0, 8)), logits, 20_000));
        double warm = entropy(counts(new Sampler(new SamplingParams(1.0f, 0, 0, 8)), logits, 20_000));
        double hot = entropy(counts(new Sampler(new SamplingParams(3.0f, 0, 0, 8)), logits, 20_000));
        assertThat(cold).isLessThan(warm - 0.1);
        assertThat(warm).isLessThan(hot - 0.1);
        // And the hot frequencies follow softmax(logits / T).
        assertMatches(counts(new Sampler(new SamplingParams(3.0f, 0, 0, 9)), logits, 20_000), softmax(logits, 3.0), 20_000);
    }

    @Test
    void maskedTokensAreNeverDrawn() {
        float ninf = Float.NEGATIVE_INFINITY;
        float[] logits = {ninf, 0f, ninf, 0f, ninf};
        int[] counts = counts(new Sampler(new SamplingParams(1.0f, 0, 0, 3)), logits, 2_000);
        assertThat(counts[0] + counts[2] + counts[4]).isZero();
        int[] filtered = counts(new Sampler(new SamplingParams(1.0f, 4, 0.99f, 3)), logits, 2_000);
        assertThat(filtered[0] + filtered[2] + filtered[4]).isZero();
    }

    @Test
    void rowsWithoutADistributionAreRejected() {
        Sampler sampler = new Sampler(new SamplingParams(1f, 0, 0, 1));
        assertThatThrownBy(() -> sampler.sample(FloatBuffer.wrap(new float[]{0f, Float.NaN}), 0, 2))
                .isInstanceOf(IllegalArgumentException.class);
        float ninf = Float.NEGATIVE_INFINITY;
        assertThatThrownBy(() -> sampler.sample(FloatBuffer.wrap(new float[]{ninf, ninf}), 0, 2))
                .isInstanceOf(IllegalArgumentException.class);
    }

    // Each count must lie within 5 binomial standard deviations of n p (a false failure is ~1e-6).
    private static void assertMatches(int[] counts, double[] p, int n) {
        for (int i = 0; i < p.length; i++) {
            double sigma = Math.sqrt(n * p[i] * (1 - p[i]));
            assertThat((double) counts[i]).as("count of token %d", i).isCloseTo(n * p[i], within(5 * sigma));
        }
    }

    private static int[] counts(Sampler sampler, float[] logits, int n) {
        int[] counts = new int[logits.length];
        FloatBuffer row = FloatBuffer.wrap(logits);
        for (int i = 0; i < n; i++) counts[sampler.sample(row, 0, logits.length).token()]++;
        return counts;
    }

    private static List<Integer> draw(Sampler sampler, List<float[]> rows) {
        List<Integer> tokens = new ArrayList<>();
        for (float[] row : rows) tokens.add(sampler.sample(FloatBuffer.wrap(row), 0, row.length).token());
        return tokens;
    }

    private static List<float[]> randomRows(int count, int vocab, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<float[]> rows = new ArrayList<>();
        for (int r = 0; r < count; r++) {
            float[] row = new float[vocab];
            for (int i = 0; i < vocab; i++) row[i] = (float) (random.nextGaussian() * 2);
            rows.add(row);
        }
        return rows;
    }

    private static double[] softmax(float[] logits, double temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (float x : logits) max = Math.max(max, x);
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) sum += p[i] = Math.exp((logits[i] - max) / temperature);
        for (int i = 0; i < p.length; i++) p[i] /= sum;
        return p;
    }

    private static float[] logitsOf(double... probabilities) {
        float[] logits = new float[probabilities.length];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) Math.log(probabilities[i]);
        return logits;
    }

    private static double entropy(int[] counts) {
        double n = 0;
        for (int c : counts) n += c;
        double h = 0;
        for (int c : counts) if (c > 0) h -= c / n * Math.log(c / n);
        return h;
    }
}
