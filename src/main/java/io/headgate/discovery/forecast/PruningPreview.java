package io.headgate.discovery.forecast;

import ai.onnxruntime.OrtException;
import io.headgate.effect.forecast.HeldOutEvaluator;
import io.headgate.effect.forecast.HeldOutScores;
import io.headgate.effect.forecast.HeldOutWindow;
import io.headgate.model.BundleManifest.Dimensions;
import io.headgate.model.ControlRow;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Previews structured pruning of a forecaster's heads: a head's gain at 0 removes it exactly, so a
 * profile with k heads at gain 0 forecasts as the model with those k heads pruned — without the
 * fine-tuning that follows pruning in practice, and without any saving of compute (the heads are
 * still computed). Every figure this class produces is labelled {@value #LABEL}.
 */
public final class PruningPreview {

    public static final String LABEL = "prune-only (head gain 0; no fine-tuning, no speed-up)";

    /** A profile's accuracy over the evaluation windows: geometric-mean MASE and WQL relative to seasonal naive. */
    public record Outcome(double relativeMase, double relativeWql) {
        static Outcome of(HeldOutScores s) {
            return new Outcome(s.overall().relativeMase(), s.overall().relativeWql());
        }

        /** Relative change of MASE against {@code full}: 0.05 is 5% worse. */
        public double maseChange(Outcome full) {
            return relativeMase / full.relativeMase - 1;
        }

        public double wqlChange(Outcome full) {
            return relativeWql / full.relativeWql - 1;
        }
    }

    /**
     * "Prune these k heads": the heads (the first k of a ranking), the profile that removes them, and
     * its measured outcome beside the full model's and that of {@code randomSets} sets of k heads drawn
     * at random (mean, best, worst by MASE).
     */
    public record Suggestion(String label, String ranking, List<Head> heads, ControlRow profile, Outcome full, Outcome pruned,
                             Outcome randomMean, Outcome randomBest, Outcome randomWorst, int randomSets) {
    }

    private final HeldOutEvaluator evaluator;
    private final Dimensions dims;

    public PruningPreview(HeldOutEvaluator evaluator, Dimensions dims) {
        this.evaluator = evaluator;
        this.dims = dims;
    }

    /** The profile removing {@code heads} (gain 0), identity elsewhere. */
    public static ControlRow removing(Dimensions d, Collection<Head> heads) {
        ControlRow row = ControlRow.identity(d);
        for (Head h : heads) row.gain()[h.index(d.heads())] = 0f;
        return row;
    }

    /** k distinct heads drawn uniformly with a seeded generator. */
    public static List<Head> randomHeads(Dimensions d, int k, long seed) {
        List<Head> all = new ArrayList<>();
        for (int i = 0; i < d.layers() * d.heads(); i++) all.add(Head.of(i, d.heads()));
        Collections.shuffle(all, new Random(seed));
        return List.copyOf(all.subList(0, k));
    }

    /**
     * Removes the first {@code k} heads of {@code ranking} and measures it on {@code windows} (which
     * should be apart from the ones the ranking was scored on), with random sets of k heads (seeds
     * {@code seed}, {@code seed + 1}, ...) as the control. All profiles run as rows of the same batches.
     */
    public Suggestion suggest(String rankingName, List<Head> ranking, int k, List<HeldOutWindow> windows, int randomSets, long seed)
            throws OrtException {
        if (k <= 0 || k > ranking.size()) throw new IllegalArgumentException("k must be in 1.." + ranking.size() + ", got " + k);
        List<Head> chosen = List.copyOf(ranking.subList(0, k));
        List<ControlRow> profiles = new ArrayList<>();
        profiles.add(ControlRow.identity(dims));
        profiles.add(removing(dims, chosen));
        for (int s = 0; s < randomSets; s++) profiles.add(removing(dims, randomHeads(dims, k, seed + s)));
        List<HeldOutScores> scores = evaluator.score(windows, profiles);
        List<Outcome> random = scores.subList(2, scores.size()).stream().map(Outcome::of).toList();
        Outcome mean = new Outcome(random.stream().mapToDouble(Outcome::relativeMase).average().orElse(Double.NaN),
                random.stream().mapToDouble(Outcome::relativeWql).average().orElse(Double.NaN));
        Outcome best = random.stream().min((a, b) -> Double.compare(a.relativeMase(), b.relativeMase())).orElse(mean);
        Outcome worst = random.stream().max((a, b) -> Double.compare(a.relativeMase(), b.relativeMase())).orElse(mean);
        return new Suggestion(LABEL, rankingName, chosen, profiles.get(1), Outcome.of(scores.get(0)), Outcome.of(scores.get(1)),
                mean, best, worst, randomSets);
    }
}
