package io.headgate.convert;

import com.fasterxml.jackson.databind.JsonNode;
import io.headgate.effect.forecast.HeldOutSet;
import io.headgate.effect.forecast.HeldOutWindow;
import io.headgate.model.ControlBatch;
import io.headgate.model.ControlRow;
import io.headgate.model.forecast.ContextWindow;
import io.headgate.model.forecast.ForecastGraph;
import io.headgate.testing.SeriesTsfm;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Plain causal attention (MatMul, Softmax, a constant mask) against ONNX Runtime's
 * GroupQueryAttention without a past, in the series-tsfm forecast graph: the same outputs? which
 * costs less CPU at 1, 8 and 64 series? One ONNX Runtime thread. Run:
 * {@code ./mvnw -q test-compile exec:java -Dexec.classpathScope=test -Dexec.mainClass=io.headgate.convert.PatchAttentionComparison}
 */
public final class PatchAttentionComparison {

    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        Path root = Files.createTempDirectory("patch-attention");
        JsonNode json = ConfigFields.read(SeriesTsfm.CHECKPOINT.resolve("config.json"));
        PatchLlamaConfig config = PatchLlamaConfig.parse(json);
        CheckpointConverter converter = new CheckpointConverter(m -> { });
        Path plain = root.resolve("plain"), gqa = root.resolve("gqa");
        converter.convertForecaster(SeriesTsfm.CHECKPOINT, plain, CheckpointConverter.Options.STEERABLE, null, config, SteerablePatchGraph.AttentionKind.PLAIN);
        converter.convertForecaster(SeriesTsfm.CHECKPOINT, gqa, CheckpointConverter.Options.STEERABLE, null, config, SteerablePatchGraph.AttentionKind.GROUP_QUERY);
        List<HeldOutWindow> windows = HeldOutSet.read(SeriesTsfm.HELD_OUT).windows();
        try (ForecastGraph a = ForecastGraph.load(plain, ForecastGraph.SessionConfig.DEFAULT);
             ForecastGraph b = ForecastGraph.load(gqa, ForecastGraph.SessionConfig.DEFAULT)) {
            var d = a.manifest().dimensions();
            for (int rows : new int[]{1, 8, 64}) {
                List<double[]> contexts = new ArrayList<>();
                ControlBatch controls = new ControlBatch(d, rows);
                for (int r = 0; r < rows; r++) {
                    contexts.add(windows.get((r * 37) % windows.size()).history());
                    controls.set(r, ControlRow.identity(d));
                }
                double diff = maxDiff(a.forward(contexts, controls).values(), b.forward(contexts, controls).values(),
                        a.forward(contexts, controls).windows().stream().mapToDouble(w -> w.scale()).toArray());
                double[][] t = time(a, b, contexts, controls, rounds);
                double[] ta = t[0], tb = t[1];
                System.out.printf(Locale.ROOT, "%2d series: plain %.3f ms CPU (p90 %.3f), GroupQueryAttention %.3f ms CPU (p90 %.3f); max |Δ|/scale %.2e%n",
                        rows, ta[0], ta[1], tb[0], tb[1], diff);
            }
        }
        CheckpointConverter.deleteRecursively(root);
    }

    private static double maxDiff(double[] x, double[] y, double[] scales) {
        int perRow = x.length / scales.length;
        double worst = 0;
        for (int i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]) / scales[i / perRow]);
        return worst;
    }

    /**
     * Median and 90th percentile of {@code rounds} forward passes of each graph, in ms of the calling
     * thread's CPU time (with one intra-op thread ONNX Runtime computes on the caller, and CPU time is
     * what a shared machine's load does not inflate), after a warm-up; the two alternate.
     */
    private static double[][] time(ForecastGraph a, ForecastGraph b, List<double[]> contexts, ControlBatch controls, int rounds) throws Exception {
        var windows = windowsOf(a, contexts);
        for (int i = 0; i < 20; i++) {
            a.forwardWindows(windows, controls);
            b.forwardWindows(windows, controls);
        }
        double[][] ms = new double[2][rounds];
        ForecastGraph[] graphs = {a, b};
        for (int i = 0; i < rounds; i++) {
            for (int k = 0; k < 2; k++) {
                long t0 = CPU.getCurrentThreadCpuTime();
                graphs[k].forwardWindows(windows, controls);
                ms[k][i] = (CPU.getCurrentThreadCpuTime() - t0) / 1e6;
            }
        }
        for (double[] m : ms) Arrays.sort(m);
        return new double[][]{{ms[0][rounds / 2], ms[0][rounds * 9 / 10]}, {ms[1][rounds / 2], ms[1][rounds * 9 / 10]}};
    }

    private static List<ContextWindow> windowsOf(ForecastGraph g, List<double[]> contexts) {
        return contexts.stream().map(c -> ContextWindow.of(c, g.spec())).toList();
    }
}
