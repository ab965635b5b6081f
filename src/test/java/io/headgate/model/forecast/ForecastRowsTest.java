package io.headgate.model.forecast;

import io.headgate.convert.CheckpointConverter;
import io.headgate.model.ControlBatch;
import io.headgate.model.ControlRow;
import io.headgate.testing.ForecastReference;
import io.headgate.testing.SeriesTsfm;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Rows of a forecast batch are independent: identity controls reproduce the converter's plain graph
 * (no control inputs) bit for bit, and every series under its own controls in a batch — in any order
 * — equals that series forecast alone, bit for bit.
 */
class ForecastRowsTest {

    static ForecastReference ref;
    static ForecastGraph steerable, plain;

    @BeforeAll
    static void load() throws Exception {
        ref = ForecastReference.read(SeriesTsfm.REFERENCE);
        steerable = SeriesTsfm.graph(CheckpointConverter.Options.STEERABLE);
        plain = SeriesTsfm.graph(SeriesTsfm.PLAIN);
    }

    @AfterAll
    static void close() throws Exception {
        steerable.close();
        plain.close();
    }

    @Test
    void identityControlsEqualThePlainGraphBitForBit() throws Exception {
        var d = steerable.manifest().dimensions();
        List<double[]> contexts = ref.inputs().values().stream().map(ForecastReference.Input::context).toList();
        ControlBatch identity = new ControlBatch(d, contexts.size());
        for (int r = 0; r < contexts.size(); r++) identity.set(r, ControlRow.identity(d));
        QuantileForecast a = plain.forward(contexts, null), b = steerable.forward(contexts, identity);
        for (int i = 0; i < a.values().length; i++) {
            assertEquals(Double.doubleToRawLongBits(a.values()[i]), Double.doubleToRawLongBits(b.values()[i]),
                    "value " + i + ": " + a.values()[i] + " vs " + b.values()[i]);
        }
    }

    @Test
    void everyRowOfAShuffledBatchEqualsItsSeriesAloneBitForBit() throws Exception {
        var d = steerable.manifest().dimensions();
        List<ForecastReference.Case> cases = new ArrayList<>(ref.cases());
        Collections.shuffle(cases, new Random(3));
        ControlBatch batch = new ControlBatch(d, cases.size());
        List<ContextWindow> windows = new ArrayList<>();
        for (int r = 0; r < cases.size(); r++) {
            batch.set(r, ref.controls(cases.get(r).setting(), d));
            windows.add(ContextWindow.of(ref.inputs().get(cases.get(r).input()).context(), steerable.spec()));
        }
        float[] batched = copy(steerable.forwardWindows(windows, batch));
        int perRow = steerable.spec().horizon() * steerable.spec().quantiles().size();
        ControlBatch one = new ControlBatch(d, 1);
        for (int r = 0; r < cases.size(); r++) {
            one.set(0, ref.controls(cases.get(r).setting(), d));
            FloatBuffer alone = steerable.forwardWindows(List.of(windows.get(r)), one);
            for (int i = 0; i < perRow; i++) {
                assertEquals(Float.floatToRawIntBits(alone.get(i)), Float.floatToRawIntBits(batched[r * perRow + i]),
                        cases.get(r) + " value " + i + ": alone " + alone.get(i) + ", batched " + batched[r * perRow + i]);
            }
        }
        // and the controls do reach the rows: a setting changes the forecast of its input
        assertNotEquals(batched[0], batched[perRow], "two different rows gave the same first value");
    }

    @Test
    void aBundleWhoseManifestDisagreesWithItsGraphIsRefused(@TempDir Path dir) throws Exception {
        Path bundle = SeriesTsfm.bundle(CheckpointConverter.Options.STEERABLE);
        for (String name : List.of("headgate.json", "model.onnx", "model.onnx.data")) Files.copy(bundle.resolve(name), dir.resolve(name));
        Path manifest = dir.resolve("headgate.json");
        Files.writeString(manifest, Files.readString(manifest).replace("\"horizon\" : 64", "\"horizon\" : 48"));
        var e = assertThrows(IllegalArgumentException.class,
                () -> ForecastGraph.load(dir, ForecastGraph.SessionConfig.DEFAULT));
        assertThat(e.getMessage()).contains("quantiles").contains("48");
    }

    static float[] copy(FloatBuffer b) {
        float[] out = new float[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
