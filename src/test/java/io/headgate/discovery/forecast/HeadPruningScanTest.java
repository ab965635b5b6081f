package io.headgate.discovery.forecast;

import io.headgate.convert.CheckpointConverter;
import io.headgate.effect.forecast.HeldOutEvaluator;
import io.headgate.effect.forecast.HeldOutScores;
import io.headgate.effect.forecast.HeldOutSet;
import io.headgate.effect.forecast.HeldOutWindow;
import io.headgate.engine.forecast.QuantileOrder;
import io.headgate.model.BundleManifest.Dimensions;
import io.headgate.model.ControlBatch;
import io.headgate.model.ControlRow;
import io.headgate.model.forecast.ForecastGraph;
import io.headgate.model.forecast.QuantileForecast;
import io.headgate.testing.SeriesTsfm;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The batched head scan equals the same measurements made one window and one head at a time, and a
 * pruning suggestion removes exactly the heads it names and reports the full model's own accuracy.
 */
class HeadPruningScanTest {

    static ForecastGraph graph;
    static List<HeldOutWindow> windows;

    @BeforeAll
    static void load() throws Exception {
        graph = SeriesTsfm.graph(CheckpointConverter.Options.ANALYSIS);
        List<HeldOutWindow> all = HeldOutSet.read(SeriesTsfm.HELD_OUT).windows();
        windows = new ArrayList<>();
        for (int i = 0; i < all.size(); i += all.size() / 10) windows.add(all.get(i)); // 10 windows across frequencies
    }

    @AfterAll
    static void close() throws Exception {
        graph.close();
    }

    @Test
    void batchedScanEqualsOneWindowAndOneHeadAtATime() throws Exception {
        Dimensions d = graph.manifest().dimensions();
        HeadPruningScores scores = new HeadPruningScan(graph, 7).scan(windows); // 7 rows: batches cut across windows
        assertEquals(windows.size(), scores.windows());
        double[] levels = graph.spec().quantiles().stream().mapToDouble(Double::doubleValue).toArray();
        int median = graph.spec().medianIndex();
        ControlBatch one = new ControlBatch(d, 1);
        // baseline loss and norms: each window alone under identity
        double baseline = 0;
        double[] norms = new double[d.layers() * d.heads()];
        one.set(0, ControlRow.identity(d));
        for (HeldOutWindow w : windows) {
            QuantileForecast f = graph.forward(List.of(w.history()), one);
            baseline += HeadPruningScan.scaledQuantileLoss(w, QuantileOrder.sorted(f.row(0)), levels, median);
            for (int i = 0; i < norms.length; i++) norms[i] += graph.headNormRatio().get(i);
        }
        assertEquals(baseline / windows.size(), scores.baselineLoss(), 1e-9 * scores.baselineLoss());
        for (int i = 0; i < norms.length; i++) {
            assertEquals(norms[i] / windows.size(), scores.normRatio(Head.of(i, d.heads())), 1e-6, "norm of " + Head.of(i, d.heads()));
        }
        // two heads' ablations, each window alone with that head at gain 0
        for (Head h : List.of(new Head(0, 0), new Head(d.layers() - 1, d.heads() - 2))) {
            one.set(0, PruningPreview.removing(d, List.of(h)));
            double loss = 0;
            for (HeldOutWindow w : windows) {
                QuantileForecast f = graph.forward(List.of(w.history()), one);
                loss += HeadPruningScan.scaledQuantileLoss(w, QuantileOrder.sorted(f.row(0)), levels, median);
                assertEquals(0f, graph.headNormRatio().get(h.index(d.heads())), "a removed head writes nothing");
            }
            assertEquals((loss / windows.size() - scores.baselineLoss()) / scores.baselineLoss(), scores.ablationChange(h), 1e-9, "ablation of " + h);
        }
        assertThat(scores.byNorm()).hasSize(norms.length).doesNotHaveDuplicates();
        assertTrue(scores.normRatio(scores.byNorm().getFirst()) <= scores.normRatio(scores.byNorm().getLast()));
        assertTrue(scores.ablationChange(scores.byAblation().getFirst()) <= scores.ablationChange(scores.byAblation().getLast()));
    }

    @Test
    void suggestionRemovesItsHeadsAndReportsTheFullModel() throws Exception {
        Dimensions d = graph.manifest().dimensions();
        HeldOutEvaluator evaluator = new HeldOutEvaluator(graph, 16);
        List<Head> ranking = List.of(new Head(1, 2), new Head(3, 0), new Head(0, 5), new Head(2, 2));
        PruningPreview.Suggestion s = new PruningPreview(evaluator, d).suggest("given", ranking, 3, windows, 2, 9);
        assertEquals(ranking.subList(0, 3), s.heads());
        assertThat(s.label()).contains("prune-only").contains("no fine-tuning").contains("no speed-up");
        for (int i = 0; i < d.layers() * d.heads(); i++) {
            boolean removed = s.heads().contains(Head.of(i, d.heads()));
            assertEquals(removed ? 0f : 1f, s.profile().gain()[i], "gain of " + Head.of(i, d.heads()));
        }
        HeldOutScores full = evaluator.score(windows, ControlRow.identity(d));
        assertEquals(full.overall().relativeMase(), s.full().relativeMase(), 0.0);
        HeldOutScores pruned = evaluator.score(windows, s.profile());
        assertEquals(pruned.overall().relativeWql(), s.pruned().relativeWql(), 0.0);
        // random sets: seeded, distinct heads
        assertEquals(PruningPreview.randomHeads(d, 5, 9), PruningPreview.randomHeads(d, 5, 9));
        assertEquals(5, new HashSet<>(PruningPreview.randomHeads(d, 5, 9)).size());
    }
}
