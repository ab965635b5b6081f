package io.headgate.effect.forecast;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.headgate.convert.CheckpointConverter;
import io.headgate.model.ControlRow;
import io.headgate.model.forecast.ForecastGraph;
import io.headgate.testing.SeriesTsfm;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * series-tsfm on its held-out real series, through the converted graph: rolling origins over the
 * held-out tail of every series, geometric-mean MASE relative to seasonal naive below 1 overall; and
 * every figure of ACCURACY.md (computed by the training script in PyTorch) recomputed here, per
 * frequency, by the Java graph and scoring code.
 */
class HeldOutAccuracyTest {

    /** PyTorch and ONNX Runtime forecasts differ by about 1e-6 of a series' scale. */
    static final double AGREEMENT = 1e-4;

    @Test
    void beatsSeasonalNaiveOnTheHeldOutSeriesAndAgreesWithTheTrainingScript() throws Exception {
        HeldOutSet set = HeldOutSet.read(SeriesTsfm.HELD_OUT);
        List<HeldOutWindow> windows = set.windows();
        var threads = ManagementFactory.getThreadMXBean();
        long cpu0 = threads.getCurrentThreadCpuTime(), wall0 = System.nanoTime();
        HeldOutScores scores;
        try (ForecastGraph graph = SeriesTsfm.graph(CheckpointConverter.Options.STEERABLE)) {
            scores = new HeldOutEvaluator(graph, 64).score(windows, ControlRow.identity(graph.manifest().dimensions()));
        }
        double cpu = (threads.getCurrentThreadCpuTime() - cpu0) / 1e9, wall = (System.nanoTime() - wall0) / 1e9;

        JsonNode expected = new ObjectMapper().readTree(SeriesTsfm.ACCURACY.toFile());
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT, "%d series, %d windows, %.1f s CPU (%.1f s wall)%n",
                set.series().size(), windows.size(), cpu, wall));
        for (Map.Entry<String, HeldOutScores.Summary> e : scores.byFrequency().entrySet()) {
            check(e.getKey(), e.getValue(), expected.get("by_frequency").get(e.getKey()), table);
        }
        HeldOutScores.Summary overall = scores.overall();
        check("overall", overall, expected.get("overall"), table);
        System.out.print(table);
        assertEquals(set.series().size(), overall.series());
        assertTrue(overall.relativeMase() < 1.0, "geometric-mean MASE relative to seasonal naive is " + overall.relativeMase() + "\n" + table);
    }

    private static void check(String group, HeldOutScores.Summary s, JsonNode py, StringBuilder table) {
        table.append(String.format(Locale.ROOT, "  %-15s %3d series %4d windows  rel. MASE %.4f  rel. WQL %.4f  coverage %.3f%n",
                group, s.series(), s.windows(), s.relativeMase(), s.relativeWql(), s.coverage()));
        assertEquals(py.get("series").asInt(), s.series(), group + " series");
        assertEquals(py.get("windows").asInt(), s.windows(), group + " windows");
        assertEquals(py.get("relative_mase").asDouble(), s.relativeMase(), AGREEMENT, group + " relative MASE");
        assertEquals(py.get("relative_wql").asDouble(), s.relativeWql(), AGREEMENT, group + " relative WQL");
        assertEquals(py.get("mase_naive").asDouble(), s.maseNaive(), 1e-9 * Math.max(1, s.maseNaive()), group + " seasonal-naive MASE");
        assertEquals(py.get("coverage80").asDouble(), s.coverage(), 2e-3, group + " coverage");
    }
}
