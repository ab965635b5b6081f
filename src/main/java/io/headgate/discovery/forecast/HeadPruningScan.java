package io.headgate.discovery.forecast;

import ai.onnxruntime.OrtException;
import io.headgate.effect.forecast.HeldOutWindow;
import io.headgate.engine.forecast.ErrorSums;
import io.headgate.engine.forecast.QuantileOrder;
import io.headgate.model.BundleManifest.Dimensions;
import io.headgate.model.ControlBatch;
import io.headgate.model.ControlRow;
import io.headgate.model.forecast.ForecastGraph;
import io.headgate.model.forecast.QuantileForecast;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Scores every head of a forecaster for pruning with forward passes only, on windows of real series:
 * one pass under identity reads each head's relative output norm from the analysis graph, and one
 * variant per head with that head's gain at 0 measures what removing it does to the quantile loss.
 * Every (window, variant) pair is a row of the batch — L·H + 1 rows per window — so the whole scan is
 * (L·H + 1)·windows / batchRows forward passes.
 */
public final class HeadPruningScan {

    private final ForecastGraph graph;
    private final int batchRows;
    private final Dimensions dims;

    /** {@code graph}: a steerable forecast graph with the analysis output (converted with {@code --analysis}). */
    public HeadPruningScan(ForecastGraph graph, int batchRows) {
        if (!graph.analysis() || !graph.manifest().steerable()) {
            throw new IllegalArgumentException("bundle " + graph.manifest().name() + " needs the control inputs and the analysis output");
        }
        if (batchRows <= 0) throw new IllegalArgumentException("batchRows must be positive");
        this.graph = graph;
        this.batchRows = batchRows;
        this.dims = graph.manifest().dimensions();
    }

    public Dimensions dims() {
        return dims;
    }

    /** The control row removing one head (gain 0), identity elsewhere. */
    public static ControlRow without(Dimensions d, Head head) {
        ControlRow row = ControlRow.identity(d);
        row.gain()[head.index(d.heads())] = 0f;
        return row;
    }

    public HeadPruningScores scan(List<HeldOutWindow> windows) throws OrtException {
        int heads = dims.layers() * dims.heads(), variants = heads + 1;
        List<ControlRow> rows = new ArrayList<>();
        rows.add(ControlRow.identity(dims));
        for (int i = 0; i < heads; i++) rows.add(without(dims, Head.of(i, dims.heads())));
        double[] loss = new double[variants], norms = new double[heads];
        int[] counted = new int[variants];
        int normWindows = 0;
        double[] levels = graph.spec().quantiles().stream().mapToDouble(Double::doubleValue).toArray();
        ControlBatch controls = new ControlBatch(dims, batchRows);
        int jobs = windows.size() * variants;
        for (int first = 0; first < jobs; first += batchRows) {
            int n = Math.min(batchRows, jobs - first);
            List<double[]> contexts = new ArrayList<>(n);
            for (int r = 0; r < n; r++) {
                contexts.add(windows.get((first + r) / variants).history());
                controls.set(r, rows.get((first + r) % variants));
            }
            QuantileForecast f = graph.forward(contexts, controls);
            FloatBuffer ratios = graph.headNormRatio();
            for (int r = 0; r < n; r++) {
                int variant = (first + r) % variants;
                HeldOutWindow w = windows.get((first + r) / variants);
                double scaled = scaledQuantileLoss(w, QuantileOrder.sorted(f.row(r)), levels, graph.spec().medianIndex());
                if (!Double.isNaN(scaled)) {
                    loss[variant] += scaled;
                    counted[variant]++;
                }
                if (variant == 0) {
                    for (int i = 0; i < heads; i++) norms[i] += ratios.get(r * heads + i);
                    normWindows++;
                }
            }
        }
        for (int v = 0; v < variants; v++) loss[v] /= counted[v];
        for (int i = 0; i < heads; i++) norms[i] /= normWindows;
        return new HeadPruningScores(dims, windows.size(), loss[0], norms, Arrays.copyOfRange(loss, 1, variants));
    }

    /** Mean pinball loss over the window's observed steps and levels, over its history's seasonal-naive MAE. */
    static double scaledQuantileLoss(HeldOutWindow w, double[][] sortedQuantiles, double[] levels, int median) {
        int h = w.series().horizon();
        double[][] q = Arrays.copyOf(sortedQuantiles, h);
        double[] point = new double[h];
        for (int t = 0; t < h; t++) point[t] = q[t][median];
        ErrorSums sums = new ErrorSums(levels.length).add(w.actual(), point, q, levels);
        double scale = w.scale();
        return sums.count() > 0 && scale > 0 ? sums.meanPinball() / scale : Double.NaN;
    }
}
