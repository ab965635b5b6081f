package io.headgate.effect;

import io.headgate.model.diffusion.SampleClassifier.Scores;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SampleQualityTest {

    // three images, three classes, two features
    final Scores scores = new Scores(3, 3, 2,
            new float[]{0f, 0f, (float) Math.log(2), 5f, 5f, 5f, 1f, 0f, 0f},
            new float[]{1f, 0f, 0f, 1f, -1f, -1f});

    @Test
    void accuracyConfidenceAndDistanceByHand() {
        // image 0: probabilities 1/4, 1/4, 1/2 -> class 2, confidence 0.5; image 1: a tie, first index wins
        // (class 0), confidence 1/3; image 2: class 0, confidence e/(e+2)
        FeatureStatistics real = FeatureStatistics.of(new float[]{1f, 0f, 0f, 1f, -1f, -1f}, 3, 2);
        SampleQuality q = SampleQuality.measure(scores, new long[]{2, 1, 0}, real);
        assertEquals(3, q.count());
        assertEquals(2 / 3.0, q.accuracy(), 1e-12);
        assertEquals((0.5 + 1 / 3.0 + Math.E / (Math.E + 2)) / 3, q.confidence(), 1e-7);
        assertEquals(0, q.frechetDistance(), 1e-9); // the same features as the reference
    }

    @Test
    void unconditionalSamplesHaveNoAccuracyAndAShiftedMeanAddsItsSquare() {
        FeatureStatistics real = FeatureStatistics.of(new float[]{4f, 0f, 3f, 1f, 2f, -1f}, 3, 2); // features shifted by (3, 0)
        SampleQuality q = SampleQuality.measure(scores, null, real);
        assertTrue(Double.isNaN(q.accuracy()));
        assertEquals(9, q.frechetDistance(), 1e-9);
    }

    @Test
    void labelsOutsideTheClassesAreRejected() {
        FeatureStatistics real = FeatureStatistics.of(scores.features(), 3, 2);
        var e = assertThrows(IllegalArgumentException.class, () -> SampleQuality.measure(scores, new long[]{0, 3, 1}, real));
        assertTrue(e.getMessage().contains("labels[1]"));
    }
}
