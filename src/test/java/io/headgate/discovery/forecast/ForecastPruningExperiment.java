package io.headgate.discovery.forecast;

import io.headgate.convert.CheckpointConverter;
import io.headgate.effect.forecast.HeldOutEvaluator;
import io.headgate.effect.forecast.HeldOutScores;
import io.headgate.effect.forecast.HeldOutSeries;
import io.headgate.effect.forecast.HeldOutSet;
import io.headgate.effect.forecast.HeldOutWindow;
import io.headgate.model.BundleManifest.Dimensions;
import io.headgate.model.ControlRow;
import io.headgate.model.forecast.ForecastGraph;
import io.headgate.testing.SeriesTsfm;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Head pruning of series-tsfm previewed with head gains of 0 ("prune-only": no fine-tuning, no
 * speed-up), straight on the graphs (no server):
 *
 * <ol>
 *   <li>the held-out series split in two halves, alternating within each frequency: heads are scored on
 *       the first half's rolling windows, every removal is measured on the second half's;</li>
 *   <li>scores: relative head output norm and single-head ablation (change of scaled quantile loss), as
 *       layers × heads tables, and how well they agree (Spearman);</li>
 *   <li>k heads removed, k = 1..16: the lowest by norm, the least harmful by ablation, and random sets
 *       (several seeds), each measured as geometric-mean MASE and WQL relative to seasonal naive, overall
 *       and per frequency;</li>
 *   <li>the suggested "prune k heads" profile for the largest k whose ablation-ranked removal stays
 *       within 2% of the full model's MASE on the scoring half.</li>
 * </ol>
 *
 * Run: {@code ./mvnw -q test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=io.headgate.discovery.forecast.ForecastPruningExperiment [-Dexec.args="SEEDS"]}.
 * Writes the tables to stdout and to {@code target/forecast-pruning-experiment.md}.
 */
public final class ForecastPruningExperiment {

    static final int[] KS = {1, 2, 3, 4, 6, 8, 12, 16};
    static final int BATCH_ROWS = 64;

    public static void main(String[] args) throws Exception {
        int seeds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        long cpu0 = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime(), wall0 = System.nanoTime();
        HeldOutSet set = HeldOutSet.read(SeriesTsfm.HELD_OUT);
        List<HeldOutWindow> scoring = new ArrayList<>(), evaluation = new ArrayList<>();
        split(set, scoring, evaluation);
        StringBuilder out = new StringBuilder();
        try (ForecastGraph graph = SeriesTsfm.graph(CheckpointConverter.Options.ANALYSIS)) {
            Dimensions d = graph.manifest().dimensions();
            HeldOutEvaluator evaluator = new HeldOutEvaluator(graph, BATCH_ROWS);
            out.append(String.format(Locale.ROOT, "series-tsfm, %d layers x %d heads; %s.%n%n", d.layers(), d.heads(), PruningPreview.LABEL));
            out.append(String.format(Locale.ROOT, "Scoring half: %d windows; evaluation half: %d windows.%n%n", scoring.size(), evaluation.size()));

            HeadPruningScores scores = new HeadPruningScan(graph, BATCH_ROWS).scan(scoring);
            out.append(table("Relative head output norm ‖W_O^h z_h‖ / ‖x‖ (mean over patches and scoring windows)", d,
                    h -> String.format(Locale.ROOT, "%.3f", scores.normRatio(h))));
            out.append(table(String.format(Locale.ROOT, "Single-head ablation: change of scaled quantile loss with the head's gain at 0 (baseline %.4f)",
                    scores.baselineLoss()), d, h -> String.format(Locale.ROOT, "%+.1f%%", 100 * scores.ablationChange(h))));
            out.append(String.format(Locale.ROOT, "Spearman correlation of norm and ablation change over the %d heads: %.2f%n%n",
                    d.layers() * d.heads(), spearman(d, scores)));

            // every profile over the evaluation half in one pass: full, then per k by norm, by ablation, random seeds
            List<String> names = new ArrayList<>(List.of("full"));
            List<ControlRow> profiles = new ArrayList<>(List.of(ControlRow.identity(d)));
            for (int k : KS) {
                names.add("norm/" + k);
                profiles.add(PruningPreview.removing(d, scores.byNorm().subList(0, k)));
                names.add("ablation/" + k);
                profiles.add(PruningPreview.removing(d, scores.byAblation().subList(0, k)));
                for (int s = 0; s < seeds; s++) {
                    names.add("random" + s + "/" + k);
                    profiles.add(PruningPreview.removing(d, PruningPreview.randomHeads(d, k, 1000L * k + s)));
                }
            }
            List<HeldOutScores> results = evaluator.score(evaluation, profiles);
            Map<String, HeldOutScores> byName = new LinkedHashMap<>();
            for (int i = 0; i < names.size(); i++) byName.put(names.get(i), results.get(i));
            out.append(overallTable(byName, seeds));
            out.append(perFrequencyTable(byName, seeds));

            int k = largestHarmless(scores, evaluator, scoring, d);
            PruningPreview.Suggestion s = new PruningPreview(evaluator, d).suggest("ablation", scores.byAblation(), k, evaluation, seeds, 77);
            out.append(String.format(Locale.ROOT, "Suggested profile (%s): remove %d heads %s, chosen on the scoring half as the largest k whose"
                            + " ablation-ranked removal costs at most 2%% MASE there. On the evaluation half: relative MASE %.4f → %.4f (%+.1f%%),"
                            + " relative WQL %.4f → %.4f (%+.1f%%); %d random sets of %d heads: MASE %+.1f%% on average (best %+.1f%%, worst %+.1f%%).%n",
                    s.label(), k, s.heads(), s.full().relativeMase(), s.pruned().relativeMase(), 100 * s.pruned().maseChange(s.full()),
                    s.full().relativeWql(), s.pruned().relativeWql(), 100 * s.pruned().wqlChange(s.full()), s.randomSets(), k,
                    100 * s.randomMean().maseChange(s.full()), 100 * s.randomBest().maseChange(s.full()), 100 * s.randomWorst().maseChange(s.full())));
        }
        double cpu = (ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - cpu0) / 1e9, wall = (System.nanoTime() - wall0) / 1e9;
        System.out.print(out);
        Path report = Path.of("target", "forecast-pruning-experiment.md");
        Files.createDirectories(report.getParent());
        Files.writeString(report, out.toString());
        System.err.printf(Locale.ROOT, "done in %.0f s (%.0f s CPU); wrote %s%n", wall, cpu, report);
    }

    /** Within each frequency, series sorted by name go alternately to the scoring and the evaluation half. */
    static void split(HeldOutSet set, List<HeldOutWindow> scoring, List<HeldOutWindow> evaluation) {
        Map<String, List<HeldOutSeries>> byFrequency = new LinkedHashMap<>();
        for (HeldOutSeries s : set.series()) byFrequency.computeIfAbsent(s.frequency(), f -> new ArrayList<>()).add(s);
        for (List<HeldOutSeries> group : byFrequency.values()) {
            group.sort(Comparator.comparing(HeldOutSeries::name));
            for (int i = 0; i < group.size(); i++) (i % 2 == 0 ? scoring : evaluation).addAll(group.get(i).rollingOrigins());
        }
    }

    /** The largest k in KS whose ablation-ranked removal costs at most 2% of MASE on the scoring windows. */
    static int largestHarmless(HeadPruningScores scores, HeldOutEvaluator evaluator, List<HeldOutWindow> scoring, Dimensions d) throws Exception {
        List<ControlRow> profiles = new ArrayList<>(List.of(ControlRow.identity(d)));
        for (int k : KS) profiles.add(PruningPreview.removing(d, scores.byAblation().subList(0, k)));
        List<HeldOutScores> r = evaluator.score(scoring, profiles);
        double full = r.getFirst().overall().relativeMase();
        int best = KS[0];
        for (int i = 0; i < KS.length; i++) if (r.get(i + 1).overall().relativeMase() <= 1.02 * full) best = KS[i];
        return best;
    }

    interface Cell {
        String of(Head h);
    }

    static String table(String title, Dimensions d, Cell cell) {
        StringBuilder b = new StringBuilder(title).append("\n\n| layer |");
        for (int h = 0; h < d.heads(); h++) b.append(" head ").append(h).append(" |");
        b.append("\n|---|").append("---|".repeat(d.heads())).append('\n');
        for (int l = 0; l < d.layers(); l++) {
            b.append("| ").append(l).append(" |");
            for (int h = 0; h < d.heads(); h++) b.append(' ').append(cell.of(new Head(l, h))).append(" |");
            b.append('\n');
        }
        return b.append('\n').toString();
    }

    static String overallTable(Map<String, HeldOutScores> r, int seeds) {
        HeldOutScores.Summary full = r.get("full").overall();
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
                "Heads removed (gain 0) vs error on the evaluation half, all frequencies: geometric-mean MASE and WQL relative to"
                        + " seasonal naive (full model: MASE %.4f, WQL %.4f); random: mean over %d seeds [best, worst]%n%n", full.relativeMase(), full.relativeWql(), seeds));
        b.append("| heads removed | MASE by norm | MASE by ablation | MASE random | WQL by norm | WQL by ablation | WQL random |\n|---|---|---|---|---|---|---|\n");
        b.append(String.format(Locale.ROOT, "| 0 | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f |%n", full.relativeMase(), full.relativeMase(), full.relativeMase(),
                full.relativeWql(), full.relativeWql(), full.relativeWql()));
        for (int k : KS) {
            double[] rm = randoms(r, seeds, k, null, true), rw = randoms(r, seeds, k, null, false);
            b.append(String.format(Locale.ROOT, "| %d | %.4f | %.4f | %.4f [%.4f, %.4f] | %.4f | %.4f | %.4f [%.4f, %.4f] |%n", k,
                    r.get("norm/" + k).overall().relativeMase(), r.get("ablation/" + k).overall().relativeMase(), rm[0], rm[1], rm[2],
                    r.get("norm/" + k).overall().relativeWql(), r.get("ablation/" + k).overall().relativeWql(), rw[0], rw[1], rw[2]));
        }
        return b.append('\n').toString();
    }

    static String perFrequencyTable(Map<String, HeldOutScores> r, int seeds) {
        StringBuilder b = new StringBuilder("Per frequency (evaluation half): geometric-mean MASE relative to seasonal naive; random = mean over seeds\n\n| frequency | series | ranking | 0 |");
        for (int k : KS) b.append(' ').append(k).append(" |");
        b.append("\n|---|---|---|---|").append("---|".repeat(KS.length)).append('\n');
        for (Map.Entry<String, HeldOutScores.Summary> f : r.get("full").byFrequency().entrySet()) {
            String freq = f.getKey();
            for (String ranking : List.of("norm", "ablation", "random")) {
                b.append(String.format(Locale.ROOT, "| %s | %d | %s | %.3f |", freq, f.getValue().series(), ranking, f.getValue().relativeMase()));
                for (int k : KS) {
                    double v = ranking.equals("random") ? randoms(r, seeds, k, freq, true)[0] : r.get(ranking + "/" + k).byFrequency().get(freq).relativeMase();
                    b.append(String.format(Locale.ROOT, " %.3f |", v));
                }
                b.append('\n');
            }
        }
        return b.append('\n').toString();
    }

    /** Mean, min and max over the random seeds, overall or for one frequency. */
    static double[] randoms(Map<String, HeldOutScores> r, int seeds, int k, String frequency, boolean mase) {
        double sum = 0, min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        for (int s = 0; s < seeds; s++) {
            HeldOutScores scores = r.get("random" + s + "/" + k);
            HeldOutScores.Summary summary = frequency == null ? scores.overall() : scores.byFrequency().get(frequency);
            double v = mase ? summary.relativeMase() : summary.relativeWql();
            sum += v;
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        return new double[]{sum / seeds, min, max};
    }

    static double spearman(Dimensions d, HeadPruningScores scores) {
        int n = d.layers() * d.heads();
        double[] a = ranks(scores.byNorm(), d, n), b = ranks(scores.byAblation(), d, n);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += (a[i] - b[i]) * (a[i] - b[i]);
        return 1 - 6 * sum / (n * ((double) n * n - 1));
    }

    private static double[] ranks(List<Head> order, Dimensions d, int n) {
        double[] r = new double[n];
        for (int i = 0; i < order.size(); i++) r[order.get(i).index(d.heads())] = i;
        return r;
    }
}
