package io.headgate.steer;

import io.headgate.model.ControlRow;
import io.headgate.model.BundleManifest.Dimensions;
import io.headgate.testing.Shipped;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Profiles compile to dense [L, H] / [L, H, Dh] rows, in order, with -1 covering every layer or head. */
class ProfileCompilerTest {

    private static final Dimensions DIMS = new Dimensions(4, 8, 2, 16, 128, 23);
    private static final int H = 8;
    private static final int DH = 16;

    @Test
    void identitySpecCompilesToTheIdentityRow() {
        ControlRow row = ProfileCompiler.compile(ProfileSpec.IDENTITY, DIMS);
        ControlRow identity = ControlRow.identity(DIMS);
        assertThat(Arrays.equals(row.gain(), identity.gain())).isTrue();
        assertThat(Arrays.equals(row.bias(), identity.bias())).isTrue();
        assertThat(Arrays.equals(row.mix(), identity.mix())).isTrue();
        assertThat(row.fits(DIMS)).isTrue();
    }

    @Test
    void wildcardsCoverEveryLayerOrHead() {
        ProfileSpec spec = new ProfileSpec("", List.of(new HeadGain(2, -1, 1.5f), new HeadGain(-1, 5, 0f)),
                null, List.of(new HeadMix(-1, -1, 0.25f)));
        ControlRow row = ProfileCompiler.compile(spec, DIMS);
        for (int l = 0; l < 4; l++) {
            for (int h = 0; h < H; h++) {
                float expected = h == 5 ? 0f : l == 2 ? 1.5f : 1f;
                assertThat(row.gain()[l * H + h]).as("gain l%d h%d", l, h).isEqualTo(expected);
                assertThat(row.mix()[l * H + h]).as("mix l%d h%d", l, h).isEqualTo(0.25f);
            }
        }
    }

    @Test
    void laterEntriesOverrideEarlierOnesWhereTheyOverlap() {
        ProfileSpec spec = new ProfileSpec("",
                List.of(new HeadGain(-1, -1, 2f), new HeadGain(1, 3, 0.5f), new HeadGain(1, -1, 3f), new HeadGain(1, 4, -1f)),
                List.of(new HeadBias(0, -1, filled(1f)), new HeadBias(0, 2, filled(-2f))),
                List.of(new HeadMix(3, 0, 1f), new HeadMix(3, 0, 0.5f)));
        ControlRow row = ProfileCompiler.compile(spec, DIMS);
        assertThat(row.gain()[0 * H + 3]).isEqualTo(2f);
        assertThat(row.gain()[1 * H + 3]).isEqualTo(3f);  // (1, 3) then all of layer 1 at 3
        assertThat(row.gain()[1 * H + 4]).isEqualTo(-1f); // all of layer 1 at 3, then (1, 4)
        assertThat(row.bias()[(0 * H + 1) * DH]).isEqualTo(1f);
        assertThat(row.bias()[(0 * H + 2) * DH + 7]).isEqualTo(-2f); // replaced, not added
        assertThat(row.mix()[3 * H]).isEqualTo(0.5f);
    }

    @Test
    void biasesLandAtTheirHeadsOffsets() {
        float[] a = new float[DH];
        float[] b = new float[DH];
        for (int d = 0; d < DH; d++) {
            a[d] = d + 1;
            b[d] = -(d + 100);
        }
        ProfileSpec spec = new ProfileSpec("", null, List.of(new HeadBias(2, 5, a), new HeadBias(3, 7, b)), null);
        float[] bias = ProfileCompiler.compile(spec, DIMS).bias();
        float[] expected = new float[4 * H * DH];
        System.arraycopy(a, 0, expected, (2 * H + 5) * DH, DH);
        System.arraycopy(b, 0, expected, (3 * H + 7) * DH, DH); // the very end of the row
        assertThat(bias).containsExactly(expected);
    }

    @Test
    void shippedProfilesCompileToWhatTheySay(@TempDir Path dir) throws Exception {
        ProfileRegistry registry = new ProfileRegistry(dir);
        assertThat(registry.seedFromDirectory(Shipped.PROFILES)).isEqualTo(Shipped.profiles()).isGreaterThanOrEqualTo(5);

        ProfileSpec boost = registry.latest("parens-lm", "boost-l3").orElseThrow().spec();
        ProfileValidator.validate(boost, DIMS, 8f);
        assertThat(boost.description()).contains("RASteer");
        ControlRow boosted = ProfileCompiler.compile(boost, DIMS);
        for (int i = 0; i < 4 * H; i++) assertThat(boosted.gain()[i]).isEqualTo(i >= 3 * H ? 1.5f : 1f);

        ProfileSpec pag = registry.latest("parens-lm", "pag-l1").orElseThrow().spec();
        ProfileValidator.validate(pag, DIMS, 8f);
        assertThat(pag.description()).contains("PAG");
        ControlRow perturbed = ProfileCompiler.compile(pag, DIMS);
        for (int i = 0; i < 4 * H; i++) assertThat(perturbed.mix()[i]).isEqualTo(i / H == 1 ? 1f : 0f);
        assertThat(perturbed.gain()).containsOnly(1f);

        ProfileSpec pag0 = registry.latest("digits-dit", "pag-l0").orElseThrow().spec();
        assertThat(pag0.guidance().perturbationScale()).isEqualTo(0.5f);
        assertThat(pag0.guidance().cfgScale()).as("left to the stream").isNull();
        ProfileSpec prune = registry.latest("series-tsfm", "prune-2").orElseThrow().spec();
        assertThat(prune.description()).containsIgnoringCase("prune-only");
        assertThat(prune.gains()).containsExactly(new HeadGain(2, 0, 0f), new HeadGain(3, 2, 0f));
    }

    private static float[] filled(float value) {
        float[] v = new float[DH];
        Arrays.fill(v, value);
        return v;
    }
}
