package io.headgate.discovery.forecast;

import io.headgate.model.BundleManifest.Dimensions;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Gradient-free head scores of a forecaster, [layers, heads] row-major, measured on a set of windows:
 *
 * <ul>
 *   <li>{@code normRatio}: the head's relative output norm ‖W_O^h z_h‖ / ‖x‖, averaged over patches and windows;</li>
 *   <li>{@code ablationLoss}: the mean scaled quantile loss with the head's gain at 0 (removed), against
 *       {@code baselineLoss} with every head — the loss being, per window, the mean pinball loss over
 *       steps and levels divided by the history's in-sample seasonal-naive MAE.</li>
 * </ul>
 */
public record HeadPruningScores(Dimensions dims, int windows, double baselineLoss, double[] normRatio, double[] ablationLoss) {

    public HeadPruningScores {
        int n = dims.layers() * dims.heads();
        if (normRatio.length != n || ablationLoss.length != n) throw new IllegalArgumentException("scores must be [layers, heads]");
        normRatio = normRatio.clone();
        ablationLoss = ablationLoss.clone();
    }

    public double normRatio(Head h) {
        return normRatio[h.index(dims.heads())];
    }

    /** Relative change of the loss when the head is removed: (loss without it − baseline) / baseline. */
    public double ablationChange(Head h) {
        return (ablationLoss[h.index(dims.heads())] - baselineLoss) / baselineLoss;
    }

    /** Every head, the smallest relative output norm first: the order a norm-based pruner removes them in. */
    public List<Head> byNorm() {
        return sorted(Comparator.comparingDouble(this::normRatio));
    }

    /** Every head, the one whose removal raises the loss least (or lowers it most) first. */
    public List<Head> byAblation() {
        return sorted(Comparator.comparingDouble(this::ablationChange));
    }

    private List<Head> sorted(Comparator<Head> order) {
        List<Head> all = new ArrayList<>();
        for (int i = 0; i < dims.layers() * dims.heads(); i++) all.add(Head.of(i, dims.heads()));
        all.sort(order.thenComparing(Comparator.naturalOrder()));
        return all;
    }
}
