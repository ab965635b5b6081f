package io.headgate.model.forecast;

import io.headgate.convert.CheckpointConverter;
import io.headgate.model.ControlBatch;
import io.headgate.testing.ForecastReference;
import io.headgate.testing.SeriesTsfm;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The converted forecast graph under ONNX Runtime against the PyTorch reference (float64) on real
 * series: the preprocessing (cutting, left padding, missing values, normalisation), then every input
 * under identity, gains (one head removed, one sign-flipped), biases, identity mixes and all three —
 * all of them rows of one batch, each row with its own controls.
 */
class ForecastReferenceParityTest {

    static final double TOLERANCE = 1e-4;
    static ForecastReference ref;
    static ForecastGraph graph;

    @BeforeAll
    static void load() throws Exception {
        ref = ForecastReference.read(SeriesTsfm.REFERENCE);
        graph = SeriesTsfm.graph(CheckpointConverter.Options.STEERABLE);
    }

    @AfterAll
    static void close() throws Exception {
        graph.close();
    }

    @Test
    void preprocessingMatchesTheReference() {
        int C = graph.spec().contextLength();
        assertTrue(ref.inputs().values().stream().anyMatch(i -> i.context().length > C), "no input longer than the context");
        assertTrue(ref.inputs().values().stream().anyMatch(i -> i.context().length < C), "no input shorter than the context");
        assertTrue(ref.inputs().values().stream().anyMatch(i -> Arrays.stream(i.context()).anyMatch(Double::isNaN)), "no input with missing values");
        for (ForecastReference.Input in : ref.inputs().values()) {
            ContextWindow w = ContextWindow.of(in.context(), graph.spec());
            assertEquals(in.loc(), w.loc(), 1e-12 * Math.max(1, Math.abs(in.loc())), in.name() + " loc");
            assertEquals(in.scale(), w.scale(), 1e-12 * in.scale(), in.name() + " scale");
            assertEquals(Math.max(0, in.context().length - C), w.dropped(), in.name() + " values cut");
            FloatBuffer values = floats(C), observed = floats(C);
            w.write(values, observed, 0, C);
            for (int i = 0; i < C; i++) {
                assertEquals(in.pastValues()[i], values.get(i), 1e-6, in.name() + " past_values[" + i + "]");
                assertEquals(in.pastObserved()[i], observed.get(i), 0.0, in.name() + " past_observed[" + i + "]");
            }
        }
    }

    @Test
    void everyInputUnderEverySettingMatchesTheReferenceInOneBatch() throws Exception {
        var d = graph.manifest().dimensions();
        List<ForecastReference.Case> cases = ref.cases();
        assertTrue(cases.stream().map(ForecastReference.Case::setting).distinct().count() >= 5, "too few control settings");
        ControlBatch controls = new ControlBatch(d, cases.size());
        List<double[]> contexts = new ArrayList<>();
        for (int r = 0; r < cases.size(); r++) {
            controls.set(r, ref.controls(cases.get(r).setting(), d));
            contexts.add(ref.inputs().get(cases.get(r).input()).context());
        }
        QuantileForecast forecast = graph.forward(contexts, controls);
        int H = graph.spec().horizon(), Q = graph.spec().quantiles().size();
        assertEquals(ref.horizon(), H);
        assertEquals(ref.levels(), graph.spec().quantiles());
        double worstNormalized = 0, worstScaled = 0;
        for (int r = 0; r < cases.size(); r++) {
            ForecastReference.Case c = cases.get(r);
            ForecastReference.Input in = ref.inputs().get(c.input());
            for (int t = 0; t < H; t++) {
                for (int q = 0; q < Q; q++) {
                    double expected = c.normalized()[t][q];
                    double normalized = (forecast.value(r, t, q) - forecast.windows().get(r).loc()) / forecast.windows().get(r).scale();
                    worstNormalized = Math.max(worstNormalized, Math.abs(normalized - expected));
                    // in the series' units, against the reference's own mapping back
                    double units = in.loc() + in.scale() * expected;
                    worstScaled = Math.max(worstScaled, Math.abs(forecast.value(r, t, q) - units) / in.scale());
                }
            }
            assertTrue(worstNormalized <= TOLERANCE, c + ": max |Δ| " + worstNormalized + " > " + TOLERANCE);
            assertTrue(worstScaled <= TOLERANCE, c + ": max |Δ|/scale " + worstScaled + " > " + TOLERANCE);
        }
        System.out.printf("forecast parity: %d rows, max |Δ| %.2e (normalised units)%n", cases.size(), worstNormalized);
    }

    @Test
    void headNormRatiosOfTheAnalysisGraphMatchTheReference() throws Exception {
        try (ForecastGraph analysis = SeriesTsfm.graph(CheckpointConverter.Options.ANALYSIS)) {
            var d = analysis.manifest().dimensions();
            List<ForecastReference.Case> cases = ref.cases();
            ControlBatch controls = new ControlBatch(d, cases.size());
            List<double[]> contexts = new ArrayList<>();
            for (int r = 0; r < cases.size(); r++) {
                controls.set(r, ref.controls(cases.get(r).setting(), d));
                contexts.add(ref.inputs().get(cases.get(r).input()).context());
            }
            QuantileForecast forecast = analysis.forward(contexts, controls);
            FloatBuffer ratios = analysis.headNormRatio();
            double worst = 0;
            boolean sawRemovedHead = false;
            for (int r = 0; r < cases.size(); r++) {
                for (int l = 0; l < d.layers(); l++) {
                    for (int h = 0; h < d.heads(); h++) {
                        double expected = cases.get(r).headNormRatio()[l][h];
                        worst = Math.max(worst, Math.abs(ratios.get((r * d.layers() + l) * d.heads() + h) - expected));
                        sawRemovedHead |= expected == 0;
                    }
                }
            }
            assertTrue(worst <= TOLERANCE, "head_norm_ratio: max |Δ| " + worst + " > " + TOLERANCE);
            assertTrue(sawRemovedHead, "no setting removes a head");
            // the analysis outputs ride along: the quantiles are the steerable graph's
            assertEquals(graph.forward(contexts, controls).values()[0], forecast.values()[0], 1e-6 * forecast.windows().getFirst().scale());
        }
    }

    static FloatBuffer floats(int n) {
        return ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }
}
