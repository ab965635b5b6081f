package io.headgate.discovery.search;

import io.headgate.steer.ProfileSpec;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CancellationException;

/**
 * HeadHunter's greedy selection against an {@link Objective}: each round measures every remaining
 * unit added to the chosen set (the candidates of a round share batches), keeps the best
 * {@link SearchPlan#perRound()} that raise the development score without costing a guard more than its
 * tolerance, and stops early when none does. The strength sweep and the held-out report follow; the
 * held-out split is never used to choose. One search per instance at a time.
 */
public final class GreedySearch {

    private final Objective objective;
    private final SearchListener listener;

    private int evaluations;
    private long started;
    private long devNanos; // time spent measuring development candidates, to predict what the report costs
    private int devMeasured;

    public GreedySearch(Objective objective, SearchListener listener) {
        this.objective = objective;
        this.listener = listener;
    }

    public SearchResult run(SearchPlan plan) throws Exception {
        if (plan.maxEvaluations() < plan.minimumEvaluations()) {
            throw new IllegalArgumentException("max_evaluations " + plan.maxEvaluations() + " is below the " + plan.minimumEvaluations()
                    + " this search needs at least: the baseline, one round of " + plan.candidates().size() + " candidates, "
                    + plan.sweep().size() + " sweep points and " + plan.heldOutEvaluations() + " held-out measurements");
        }
        started = System.nanoTime();
        Intervention intervention = plan.intervention();
        List<Guard> guards = objective.guards();

        Measurement baseline = measure(List.of(intervention.profile(List.of(), "")), Objective.Split.DEV, "baseline", 0, plan, List.of()).getFirst();
        List<SearchResult.Pick> picks = new ArrayList<>();
        Set<Unit> chosen = new LinkedHashSet<>();
        Measurement current = baseline;
        SearchResult.Stop stop = SearchResult.Stop.COMPLETED;

        for (int round = 1; round <= plan.rounds(); round++) {
            List<Unit> remaining = plan.candidates().stream().filter(u -> !chosen.contains(u)).toList();
            if (remaining.isEmpty()) {
                stop = SearchResult.Stop.EXHAUSTED;
                break;
            }
            int reserve = plan.sweep().size() + plan.heldOutEvaluations() + (plan.perRound() > 1 ? 1 : 0);
            if (evaluations + remaining.size() + reserve > plan.maxEvaluations()) {
                stop = SearchResult.Stop.BUDGET;
                break;
            }
            if (overTime(plan, remaining.size() + plan.sweep().size())) {
                stop = SearchResult.Stop.TIME;
                break;
            }
            List<ProfileSpec> specs = remaining.stream().map(u -> intervention.profile(with(chosen, u), "")).toList();
            List<Measurement> scores = measure(specs, Objective.Split.DEV, "round", round, plan, List.copyOf(chosen));

            Measurement before = current;
            List<Integer> better = new ArrayList<>();
            for (int i = 0; i < remaining.size(); i++) {
                Measurement m = scores.get(i);
                if (m.score().betterThan(before.score()) && m.violatedGuard(baseline, guards) < 0) better.add(i);
            }
            if (better.isEmpty()) {
                stop = SearchResult.Stop.PLATEAU;
                break;
            }
            better.sort(Comparator.comparingDouble(i -> scores.get(i).score().worseThan(before.score())));
            List<Integer> taken = better.subList(0, Math.min(plan.perRound(), better.size()));
            Measurement joint = scores.get(taken.getFirst());
            if (taken.size() > 1) {
                // the units were measured one at a time: measure them together, and fall back to the best alone if that is worse
                Set<Unit> together = new LinkedHashSet<>(chosen);
                taken.forEach(i -> together.add(remaining.get(i)));
                Measurement m = measure(List.of(intervention.profile(together, "")), Objective.Split.DEV, "round", round, plan,
                        List.copyOf(chosen)).getFirst();
                if (m.violatedGuard(baseline, guards) < 0 && !joint.score().betterThan(m.score())) joint = m;
                else taken = taken.subList(0, 1);
            }
            for (int i : taken) {
                chosen.add(remaining.get(i));
                picks.add(new SearchResult.Pick(remaining.get(i), round, scores.get(i).score().value()));
            }
            current = joint;
        }

        // the sweep: the chosen set at other strengths; the kept strength is the best admissible one, the searched one included
        List<SearchResult.SweepPoint> sweep = new ArrayList<>();
        if (!chosen.isEmpty()) {
            sweep.add(new SearchResult.SweepPoint(intervention.strength(), current, true));
            List<Float> strengths = plan.sweep().stream().filter(s -> s != intervention.strength()).toList();
            List<Measurement> swept = measure(strengths.stream().map(s -> intervention.withStrength(s).profile(chosen, "")).toList(),
                    Objective.Split.DEV, "sweep", 0, plan, List.copyOf(chosen));
            for (int i = 0; i < strengths.size(); i++) {
                sweep.add(new SearchResult.SweepPoint(strengths.get(i), swept.get(i), swept.get(i).violatedGuard(baseline, guards) < 0));
            }
        }
        SearchResult.SweepPoint kept = sweep.stream().filter(SearchResult.SweepPoint::admissible)
                .min(Comparator.comparingDouble(p -> p.dev().score().worseThan(baseline.score()))).orElse(null);
        Intervention finalIntervention = kept == null ? intervention : intervention.withStrength(kept.strength());
        Measurement devChosen = kept == null ? baseline : kept.dev();

        // the report: everything on the held-out split, which no choice above has seen
        List<List<Unit>> randoms = randomSets(plan, chosen.size());
        List<ProfileSpec> report = new ArrayList<>();
        report.add(intervention.profile(List.of(), ""));
        report.add(finalIntervention.profile(chosen, ""));
        randoms.forEach(r -> report.add(finalIntervention.profile(r, "")));
        plan.references().forEach(r -> report.add(r.spec()));
        List<Measurement> held = measure(report, Objective.Split.HELD_OUT, "held-out", 0, plan, List.copyOf(chosen));
        List<SearchResult.RandomSet> randomScores = new ArrayList<>();
        for (int i = 0; i < randoms.size(); i++) randomScores.add(new SearchResult.RandomSet(randoms.get(i), held.get(2 + i)));
        List<SearchResult.ReferenceScore> references = new ArrayList<>();
        for (int i = 0; i < plan.references().size(); i++) {
            references.add(new SearchResult.ReferenceScore(plan.references().get(i).name(), held.get(2 + randoms.size() + i)));
        }
        return new SearchResult(objective.describe(), plan, finalIntervention, picks, sweep, baseline, devChosen, held.get(0), held.get(1),
                randomScores, references, stop, evaluations, objective.examples(Objective.Split.DEV), objective.examples(Objective.Split.HELD_OUT),
                Duration.ofNanos(System.nanoTime() - started));
    }

    private static Set<Unit> with(Set<Unit> chosen, Unit u) {
        Set<Unit> out = new LinkedHashSet<>(chosen);
        out.add(u);
        return out;
    }

    /** Measures candidates in batches, reporting progress and checking for cancellation between them. */
    private List<Measurement> measure(List<ProfileSpec> specs, Objective.Split split, String phase, int round, SearchPlan plan, List<Unit> chosen)
            throws Exception {
        List<Measurement> out = new ArrayList<>(specs.size());
        for (int first = 0; first < specs.size(); first += objective.batch()) {
            if (listener.cancelled()) throw new CancellationException("search cancelled");
            List<ProfileSpec> batch = specs.subList(first, Math.min(specs.size(), first + objective.batch()));
            long t0 = System.nanoTime();
            out.addAll(objective.measure(batch, split, listener::cancelled));
            if (split == Objective.Split.DEV) {
                devNanos += System.nanoTime() - t0;
                devMeasured += batch.size();
            }
            evaluations += batch.size();
            double best = out.stream().map(Measurement::score).min(Comparator.comparingDouble(m -> m.lowerIsBetter() ? m.value() : -m.value()))
                    .map(Measure::value).orElse(Double.NaN);
            listener.progress(new SearchProgress(phase, round, plan.rounds(), out.size(), specs.size(), evaluations, chosen, best));
        }
        return out;
    }

    /** Whether measuring {@code devCandidates} more and then the report would run past the time budget, at the pace so far. */
    private boolean overTime(SearchPlan plan, int devCandidates) {
        if (devMeasured == 0) return false;
        double perDev = (double) devNanos / devMeasured;
        double perHeldOut = perDev * objective.examples(Objective.Split.HELD_OUT) / objective.examples(Objective.Split.DEV);
        double predicted = System.nanoTime() - started + devCandidates * perDev + plan.heldOutEvaluations() * perHeldOut;
        return predicted > plan.maxTime().toNanos();
    }

    /** {@code count} sets of {@code size} units drawn from the candidates without replacement, from the plan's seed. */
    static List<List<Unit>> randomSets(SearchPlan plan, int size) {
        if (size == 0) return List.of();
        Random random = new Random(plan.seed());
        List<List<Unit>> out = new ArrayList<>();
        for (int i = 0; i < plan.randomSets(); i++) {
            List<Unit> shuffled = new ArrayList<>(plan.candidates());
            Collections.shuffle(shuffled, random);
            out.add(List.copyOf(shuffled.subList(0, size)));
        }
        return out;
    }

}
