package io.headgate.effect.forecast;

import ai.onnxruntime.OrtException;
import io.headgate.engine.forecast.QuantileOrder;
import io.headgate.model.ControlBatch;
import io.headgate.model.ControlRow;
import io.headgate.model.forecast.ForecastGraph;
import io.headgate.model.forecast.QuantileForecast;

import java.util.ArrayList;
import java.util.List;

/**
 * Forecasts held-out windows through a forecast graph and scores them. Several control rows (profiles)
 * are scored over the same windows in one pass: every (window, profile) pair is a row of the batch,
 * at most {@code batchRows} rows per forward pass.
 */
public final class HeldOutEvaluator {

    private final ForecastGraph graph;
    private final int batchRows;

    public HeldOutEvaluator(ForecastGraph graph, int batchRows) {
        if (batchRows <= 0) throw new IllegalArgumentException("batchRows must be positive");
        this.graph = graph;
        this.batchRows = batchRows;
    }

    public HeldOutScores score(List<HeldOutWindow> windows, ControlRow controls) throws OrtException {
        return score(windows, List.of(controls)).getFirst();
    }

    /** One {@link HeldOutScores} per control row, in order. */
    public List<HeldOutScores> score(List<HeldOutWindow> windows, List<ControlRow> profiles) throws OrtException {
        int horizon = graph.spec().horizon();
        for (HeldOutWindow w : windows) {
            if (w.series().horizon() > horizon) {
                throw new IllegalArgumentException(w + ": horizon " + w.series().horizon() + " is beyond the model's " + horizon);
            }
        }
        if (!graph.manifest().steerable() && profiles.size() > 1) {
            throw new IllegalArgumentException("a graph without control inputs scores one profile, not " + profiles.size());
        }
        List<HeldOutScores> out = new ArrayList<>();
        for (int p = 0; p < profiles.size(); p++) out.add(new HeldOutScores(graph.spec().quantiles()));
        int jobs = windows.size() * profiles.size();
        ControlBatch controls = graph.manifest().steerable() ? new ControlBatch(graph.manifest().dimensions(), batchRows) : null;
        for (int first = 0; first < jobs; first += batchRows) {
            int rows = Math.min(batchRows, jobs - first);
            List<double[]> contexts = new ArrayList<>(rows);
            for (int r = 0; r < rows; r++) {
                int job = first + r;
                contexts.add(windows.get(job / profiles.size()).history());
                if (controls != null) controls.set(r, profiles.get(job % profiles.size()));
            }
            QuantileForecast f = graph.forward(contexts, controls);
            for (int r = 0; r < rows; r++) {
                int job = first + r;
                out.get(job % profiles.size()).add(windows.get(job / profiles.size()), QuantileOrder.sorted(f.row(r)));
            }
        }
        return out;
    }
}
