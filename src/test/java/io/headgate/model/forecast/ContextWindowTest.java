package io.headgate.model.forecast;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.headgate.model.BundleManifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Preprocessing by hand on tiny windows (patch 2, context 4), and the manifest's forecast section. */
class ContextWindowTest {

    static final BundleManifest.Forecast SPEC = new BundleManifest.Forecast(2, 4, 3, List.of(0.1, 0.5, 0.9),
            null, null, null, null, 0.01);

    @Test
    void longerContextIsCutToTheMostRecentValuesAndNormalised() {
        ContextWindow w = ContextWindow.of(new double[]{100, 1, 2, Double.NaN, 3}, SPEC);
        assertEquals(1, w.dropped());
        assertTrue(w.truncated());
        // observed 1, 2, 3: mean 2, population std sqrt(2/3)
        assertEquals(2.0, w.loc(), 0);
        assertEquals(Math.sqrt(2.0 / 3), w.scale(), 1e-15);
        FloatBuffer values = ForecastReferenceParityTest.floats(4), observed = ForecastReferenceParityTest.floats(4);
        w.write(values, observed, 0, 4);
        assertArrayEquals(new float[]{(float) (-1 / Math.sqrt(2.0 / 3)), 0, 0, (float) (1 / Math.sqrt(2.0 / 3))}, array(values), 1e-7f);
        assertArrayEquals(new float[]{1, 1, 0, 1}, array(observed));
        assertEquals(2 + 0.5 * Math.sqrt(2.0 / 3), w.denormalize(0.5), 1e-15); // loc + scale * q
    }

    @Test
    void shorterContextIsLeftPadded() {
        ContextWindow w = ContextWindow.of(new double[]{5, 7}, SPEC);
        assertEquals(0, w.dropped());
        FloatBuffer values = ForecastReferenceParityTest.floats(8), observed = ForecastReferenceParityTest.floats(8);
        w.write(values, observed, 1, 4); // row 1 of a two-row batch
        assertArrayEquals(new float[]{0, 0, 0, 0, 0, 0, -1, 1}, array(values));
        assertArrayEquals(new float[]{0, 0, 0, 0, 0, 0, 1, 1}, array(observed));
    }

    @Test
    void aFlatContextIsScaledByItsFloorAndAZeroOneByOne() {
        // std 0: max(0, 0.01 * 50) = 0.5
        assertEquals(0.5, ContextWindow.of(new double[]{50, 50, 50}, SPEC).scale(), 1e-15);
        assertEquals(1.0, ContextWindow.of(new double[]{0, 0}, SPEC).scale(), 0);
    }

    @Test
    void unusableContextsAreRefusedNamingTheContext() {
        assertThat(assertThrows(IllegalArgumentException.class, () -> ContextWindow.of(new double[0], SPEC)).getMessage()).contains("context is empty");
        assertThat(assertThrows(IllegalArgumentException.class, () -> ContextWindow.of(new double[]{1, Double.POSITIVE_INFINITY}, SPEC)).getMessage())
                .contains("context[1]").contains("finite");
        assertThat(assertThrows(IllegalArgumentException.class, () -> ContextWindow.of(new double[]{Double.NaN, Double.NaN}, SPEC)).getMessage())
                .contains("no observed value");
        // observed only in the part that is cut off
        assertThat(assertThrows(IllegalArgumentException.class, () -> ContextWindow.of(new double[]{1, Double.NaN, Double.NaN, Double.NaN, Double.NaN}, SPEC))
                .getMessage()).contains("no observed value among its last 4 values");
    }

    @Test
    void forecastManifestsRoundTripAndOlderOnesGetTheContractNames(@TempDir Path dir) throws Exception {
        BundleManifest m = new BundleManifest(BundleManifest.FORMAT, "f", BundleManifest.FORECAST, "model.onnx", null,
                new BundleManifest.Dimensions(4, 6, 6, 16, 96, 0), 32, List.of("head_gain", "head_bias", "attn_identity_mix"),
                null, null, null, null, null, List.of(), null, new BundleManifest.Forecast(16, 512, 64, List.of(0.1, 0.5, 0.9),
                "past_values", "past_observed", "quantiles", "mean_std", 0.01));
        m.write(dir);
        BundleManifest back = BundleManifest.read(dir);
        assertEquals(m.forecast(), back.forecast());
        assertEquals(1, back.forecast().medianIndex());
        // a manifest written before the input names and normalisation were recorded
        var json = new ObjectMapper();
        ObjectNode tree = (ObjectNode) json.readTree(dir.resolve(BundleManifest.FILE).toFile());
        ObjectNode forecast = (ObjectNode) tree.get("forecast");
        forecast.remove(List.of("valuesInput", "observedInput", "quantilesOutput", "normalization", "minScaleRatio"));
        Files.writeString(dir.resolve(BundleManifest.FILE), json.writeValueAsString(tree));
        BundleManifest old = BundleManifest.read(dir);
        assertEquals(ForecastContract.PAST_VALUES, old.forecast().valuesInput());
        assertEquals(ForecastContract.QUANTILES, old.forecast().quantilesOutput());
        assertEquals(0.0, old.forecast().minScaleRatio());
        assertThrows(IllegalArgumentException.class, () -> new BundleManifest.Forecast(16, 512, 64, List.of(0.5, 0.1)));
        assertThat(assertThrows(IllegalArgumentException.class, () -> new BundleManifest.Forecast(16, 512, 64, List.of(0.5), null, null, null, "robust", 0))
                .getMessage()).contains("normalization");
    }

    static float[] array(FloatBuffer b) {
        float[] out = new float[b.capacity()];
        for (int i = 0; i < out.length; i++) out[i] = b.get(i);
        return out;
    }
}
