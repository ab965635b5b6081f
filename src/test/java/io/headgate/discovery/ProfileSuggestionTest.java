package io.headgate.discovery;

import io.headgate.model.BundleManifest.Dimensions;
import io.headgate.steer.HeadGain;
import io.headgate.steer.ProfileSpec;
import io.headgate.steer.ProfileValidator;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Classes from the tables, and the profile suggested from them. */
class ProfileSuggestionTest {

    static final int L = 2, H = 3;

    /** Head i: mean attribution, share positive, share negative. */
    static HeadTables tables(double[][] heads) {
        double[] mean = new double[L * H], pos = new double[L * H], neg = new double[L * H], zero = new double[L * H];
        for (int i = 0; i < L * H; i++) {
            mean[i] = heads[i][0];
            pos[i] = heads[i][1];
            neg[i] = heads[i][2];
        }
        return new HeadTables(L, H, 50, mean, pos, neg, zero, zero, 0.9);
    }

    static final HeadTables TABLES = tables(new double[][]{
            {0.40, 0.95, 0.05},  // sound
            {0.90, 0.80, 0.20},  // sound, exactly at the threshold, strongest
            {0.01, 0.99, 0.01},  // consistent but below the margin: irrelevant
            {-0.30, 0.10, 0.90}, // interfering
            {0.20, 0.70, 0.30},  // not consistent enough: irrelevant
            {0.60, 0.85, 0.15},  // sound
    });

    static ScanReport report() {
        return ScanReport.of("scan-test", "m", "builtin brackets", "identity@0", TABLES, new HeadClassifier(0.8, 0.05, true));
    }

    @Test
    void classesFollowTheThresholdAndTheMargin() {
        assertThat(report().classes()).containsExactly(HeadClass.SOUND, HeadClass.SOUND, HeadClass.IRRELEVANT,
                HeadClass.INTERFERING, HeadClass.IRRELEVANT, HeadClass.SOUND);
        assertThat(report().thresholds()).contains(">= 0.80").contains("mean > 0.050").contains("mean_v W_U[v]");
        assertThatThrownBy(() -> new HeadClassifier(0.5, 0, true)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void boostsExactlyTheSoundHeadsAndSaysWhereItCameFrom() {
        ProfileSpec spec = new ProfileSuggestion(1.3f, 0, 0).spec(report(), Instant.parse("2026-11-25T10:00:00Z"));
        assertThat(spec.gains()).containsExactly(new HeadGain(0, 0, 1.3f), new HeadGain(0, 1, 1.3f), new HeadGain(1, 2, 1.3f));
        assertThat(spec.description()).contains("scan-test").contains("50 examples").contains("builtin brackets")
                .contains("threshold 0.80").contains("gain 1.3").contains("2026-11-25T10:00:00Z");
        ProfileValidator.validate(spec, new Dimensions(L, H, 1, 16, 48, 50), 16f);
    }

    @Test
    void topTakesTheStrongestSoundHeadsAndDampTheInterferingOnes() {
        ScanReport scan = report();
        ProfileSuggestion suggestion = new ProfileSuggestion(1.5f, 0.5f, 2);
        assertThat(suggestion.boosted(scan)).containsExactly(1, 5);
        ProfileSpec spec = suggestion.spec(scan, Instant.now());
        assertThat(spec.gains()).containsExactly(new HeadGain(0, 1, 1.5f), new HeadGain(1, 0, 0.5f), new HeadGain(1, 2, 1.5f));
        assertThat(spec.description()).contains("the top 2 of 3 sound heads").contains("gain 0.5 on 1 interfering heads");
    }
}
