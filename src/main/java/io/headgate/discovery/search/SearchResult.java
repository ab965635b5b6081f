package io.headgate.discovery.search;

import io.headgate.steer.ProfileSpec;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * A finished search: the units chosen in order, the strength the sweep kept, development and held-out
 * measurements of the baseline and the choice, random sets of the same size and the references on
 * the held-out split, and why it stopped.
 */
public record SearchResult(String objective, SearchPlan plan, Intervention intervention, List<Pick> picks, List<SweepPoint> sweep, Measurement devBaseline,
                           Measurement devChosen, Measurement heldOutBaseline, Measurement heldOutChosen, List<RandomSet> randomSets,
                           List<ReferenceScore> references, Stop stop, int evaluations, int devExamples, int heldOutExamples,
                           Duration elapsed) {

    public enum Stop {
        COMPLETED,  // every round ran
        PLATEAU,    // no admissible candidate improved the development score
        EXHAUSTED,  // every candidate was chosen
        BUDGET,     // the next round would spend evaluations reserved for the report
        TIME        // the next round would leave too little time for the report
    }

    /** A unit, the round it was chosen in, and the development score of the set it was added to with it. */
    public record Pick(Unit unit, int round, double devScore) {
    }

    /** One strength of the sweep on the chosen set, and whether its guards held. */
    public record SweepPoint(float strength, Measurement dev, boolean admissible) {
    }

    public record RandomSet(List<Unit> units, Measurement heldOut) {
        public RandomSet {
            units = List.copyOf(units);
        }
    }

    public record ReferenceScore(String name, Measurement heldOut) {
    }

    public List<Unit> chosen() {
        return picks.stream().map(Pick::unit).toList();
    }

    /** The chosen units under the kept strength, with the search's provenance as its description; null when nothing was chosen. */
    public ProfileSpec suggested() {
        return picks.isEmpty() ? null : intervention.profile(chosen(), provenance());
    }

    /** Where the suggested profile came from: the objective, the plan and the scores on both splits. */
    public String provenance() {
        double[] held = heldOutChosen().score().pairedDifference(heldOutBaseline.score());
        String randoms = randomSets.stream().map(s -> fmt(s.heldOut().score().value())).collect(Collectors.joining(", "));
        return "greedy search on " + objective + ": " + intervention + " on " + chosen().stream().map(Unit::toString)
                .collect(Collectors.joining(" ")) + " (" + plan.rounds() + " rounds of " + plan.perRound() + " from " + plan.candidates().size()
                + " units, stopped: " + stop.name().toLowerCase() + ", " + evaluations + " evaluations); " + devBaseline.score().name()
                + " on " + devExamples + " development examples " + fmt(devBaseline.score().value()) + " -> " + fmt(devChosen.score().value())
                + ", on " + heldOutExamples + " held-out examples " + fmt(heldOutBaseline.score().value()) + " -> "
                + fmt(heldOutChosen.score().value()) + (Double.isNaN(held[1]) ? "" : " (paired difference " + fmt(held[0]) + " ± " + fmt(held[1]) + ")")
                + (randoms.isEmpty() ? "" : "; random sets of the same size: " + randoms);
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.4g", v);
    }
}
