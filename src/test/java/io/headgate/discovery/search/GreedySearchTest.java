package io.headgate.discovery.search;

import io.headgate.steer.HeadGain;
import io.headgate.steer.ProfileSpec;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Greedy search on a planted problem: a 4 × 4 model whose examples are solved exactly when heads
 * L1H2 and L3H0 are boosted (each solves its own half), where boosting L0H0 would solve more on its
 * own but breaks a guard, and every other head costs a little.
 */
class GreedySearchTest {

    private static final Unit HELPS_A = new Unit(1, 2), HELPS_B = new Unit(3, 0), BREAKS_GUARD = new Unit(0, 0);
    private static final Intervention BOOST = new Intervention(Intervention.Kind.GAIN, 1.5f, null);

    /** Dev examples are even ids, held-out odd ids; each example is "solved" by its half's head. */
    static final class Planted implements Objective {
        final List<Objective.Split> calls = new ArrayList<>();
        final List<Integer> candidatesPerCall = new ArrayList<>();
        final List<List<Integer>> examplesSeen = new ArrayList<>();
        int measured;
        Runnable afterEachCall = () -> { };

        @Override public String describe() { return "planted"; }
        @Override public List<Guard> guards() { return List.of(new Guard("guard skill", 0.05)); }
        @Override public int examples(Split split) { return 20; }
        @Override public int batch() { return 5; }

        List<Integer> ids(Split split) {
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < 20; i++) ids.add(2 * i + (split == Split.DEV ? 0 : 1));
            return ids;
        }

        @Override
        public List<Measurement> measure(List<ProfileSpec> candidates, Split split, BooleanSupplier cancelled) {
            calls.add(split);
            candidatesPerCall.add(candidates.size());
            examplesSeen.add(ids(split));
            List<Measurement> out = new ArrayList<>();
            for (ProfileSpec spec : candidates) {
                List<Unit> boosted = spec.gains().stream().filter(g -> g.gain() > 1).map(g -> new Unit(g.layer(), g.head())).toList();
                double[] solved = new double[20];
                for (int i = 0; i < 20; i++) {
                    boolean firstHalf = i < 10;
                    solved[i] = (firstHalf && boosted.contains(HELPS_A)) || (!firstHalf && boosted.contains(HELPS_B))
                            || (boosted.contains(BREAKS_GUARD) && i < 14) ? 1 : 0;
                }
                long harmful = boosted.stream().filter(u -> !u.equals(HELPS_A) && !u.equals(HELPS_B) && !u.equals(BREAKS_GUARD)).count();
                double score = mean(solved) - 0.01 * harmful;
                double guard = boosted.contains(BREAKS_GUARD) ? 0.5 : 1.0;
                out.add(new Measurement(new Measure("accuracy", false, score, solved), List.of(new Measure("guard skill", false, guard, null))));
                measured++;
            }
            afterEachCall.run();
            return out;
        }

        private static double mean(double[] v) {
            double s = 0;
            for (double x : v) s += x;
            return s / v.length;
        }
    }

    private static SearchPlan plan(int perRound, int rounds, int maxEvaluations) {
        return new SearchPlan(Unit.heads(4, 4), BOOST, perRound, rounds, List.of(1.25f, 2f), 3, 7L,
                List.of(new SearchPlan.Reference("L0H0 alone", BOOST.profile(List.of(BREAKS_GUARD), ""))), maxEvaluations, Duration.ofMinutes(5));
    }

    private static final SearchListener QUIET = new SearchListener() {
        @Override public void progress(SearchProgress progress) { }
        @Override public boolean cancelled() { return false; }
    };

    @Test
    void findsExactlyThePlantedHeadsAndNotTheOneThatBreaksTheGuard() throws Exception {
        Planted objective = new Planted();
        List<SearchProgress> progress = new ArrayList<>();
        SearchResult result = new GreedySearch(objective, new SearchListener() {
            @Override public void progress(SearchProgress p) { progress.add(p); }
            @Override public boolean cancelled() { return false; }
        }).run(plan(1, 4, 1000));

        assertThat(result.chosen()).containsExactly(HELPS_A, HELPS_B);
        assertThat(result.stop()).isEqualTo(SearchResult.Stop.PLATEAU);
        assertThat(result.devBaseline().score().value()).isEqualTo(0.0);
        assertThat(result.devChosen().score().value()).isEqualTo(1.0);
        assertThat(result.heldOutChosen().score().value()).isEqualTo(1.0);
        assertThat(result.heldOutChosen().score().pairedDifference(result.heldOutBaseline().score())).containsExactly(1.0, 0.0);
        // the sweep kept a strength at which the planted heads still count as boosted
        assertThat(result.intervention().strength()).isGreaterThan(1f);
        assertThat(result.sweep()).extracting(SearchResult.SweepPoint::strength).containsExactlyInAnyOrder(1.5f, 1.25f, 2f);
        // random sets of two heads, drawn from the seed, and the reference beside the choice
        assertThat(result.randomSets()).hasSize(3).allSatisfy(r -> assertThat(r.units()).hasSize(2));
        assertThat(result.references()).singleElement().satisfies(r -> assertThat(r.heldOut().score().value()).isEqualTo(0.7));
        // rounds measure all remaining candidates in batches of five: 16 + 15 + 14, after the baseline
        assertThat(progress).filteredOn(p -> p.phase().equals("round") && p.done() == p.total()).extracting(SearchProgress::total)
                .containsExactly(16, 15, 14);
        assertThat(objective.candidatesPerCall).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(5));

        ProfileSpec suggested = result.suggested();
        assertThat(suggested.gains()).containsExactly(new HeadGain(1, 2, result.intervention().strength()),
                new HeadGain(3, 0, result.intervention().strength()));
        assertThat(suggested.description()).contains("planted", "L1H2 L3H0", "held-out");
    }

    @Test
    void theHeldOutSplitIsOnlyMeasuredInTheReportAndIsDisjointFromDevelopment() throws Exception {
        Planted objective = new Planted();
        new GreedySearch(objective, QUIET).run(plan(1, 4, 1000));
        int firstHeldOut = objective.calls.indexOf(Objective.Split.HELD_OUT);
        assertThat(firstHeldOut).isPositive();
        assertThat(objective.calls.subList(firstHeldOut, objective.calls.size())).containsOnly(Objective.Split.HELD_OUT);
        List<Integer> dev = objective.examplesSeen.get(0), held = objective.examplesSeen.get(firstHeldOut);
        assertThat(dev).doesNotContainAnyElementsOf(held);
    }

    @Test
    void twoPerRoundTakesBothPlantedHeadsInOneRoundAfterMeasuringThemTogether() throws Exception {
        SearchResult result = new GreedySearch(new Planted(), QUIET).run(plan(2, 1, 1000));
        // L0H0 scores best alone but breaks the guard; the two planted heads come next
        assertThat(result.chosen()).containsExactlyInAnyOrder(HELPS_A, HELPS_B);
        assertThat(result.picks()).allSatisfy(p -> assertThat(p.round()).isEqualTo(1));
        assertThat(result.devChosen().score().value()).isEqualTo(1.0);
    }

    @Test
    void theBudgetStopsBeforeARoundThatWouldSpendTheReportsShare() throws Exception {
        Planted objective = new Planted();
        SearchPlan plan = plan(1, 4, 39); // baseline 1 + round 16, reserving 2 sweep + 6 report: a second round of 15 would need 40
        SearchResult result = new GreedySearch(objective, QUIET).run(plan);
        assertThat(result.stop()).isEqualTo(SearchResult.Stop.BUDGET);
        assertThat(result.chosen()).containsExactly(HELPS_A);
        assertThat(result.evaluations()).isEqualTo(objective.measured).isEqualTo(1 + 16 + 2 + 6);

        assertThatThrownBy(() -> new GreedySearch(new Planted(), QUIET).run(plan(1, 4, 10)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("max_evaluations 10");
    }

    @Test
    void cancellingStopsWithinTheRoundAfterTheBatchUnderWay() {
        Planted objective = new Planted();
        AtomicBoolean cancelled = new AtomicBoolean();
        objective.afterEachCall = () -> {
            if (objective.measured >= 1 + 5) cancelled.set(true); // during round 1, after its first batch
        };
        assertThatThrownBy(() -> new GreedySearch(objective, new SearchListener() {
            @Override public void progress(SearchProgress p) { }
            @Override public boolean cancelled() { return cancelled.get(); }
        }).run(plan(1, 4, 1000))).isInstanceOf(CancellationException.class);
        assertThat(objective.measured).isEqualTo(6);
        assertThat(objective.calls).doesNotContain(Objective.Split.HELD_OUT);
    }
}
