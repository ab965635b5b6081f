package io.headgate.discovery.search;

import io.headgate.steer.ProfileSpec;

import java.time.Duration;
import java.util.List;

/**
 * A greedy search: per round every remaining candidate unit is tried added to the chosen set and the
 * best {@code perRound} that improve the development score without breaking a guard are kept, for
 * {@code rounds} rounds; then the intervention's strength is swept over {@code sweep} on the chosen
 * set; then the chosen set, the baseline, {@code randomSets} random sets of the same size and the
 * references are measured on the held-out split.
 *
 * @param maxEvaluations candidate measurements on either split (each runs the whole split); the
 *                       held-out report and the sweep are reserved up front
 * @param maxTime        wall time; a round that would leave too little time for the report is not started
 */
public record SearchPlan(List<Unit> candidates, Intervention intervention, int perRound, int rounds, List<Float> sweep, int randomSets,
                         long seed, List<Reference> references, int maxEvaluations, Duration maxTime) {

    /** A named profile measured on the held-out split beside the search's choice (e.g. a hand-made one). */
    public record Reference(String name, ProfileSpec spec) {
    }

    public SearchPlan {
        candidates = List.copyOf(candidates);
        sweep = List.copyOf(sweep);
        references = List.copyOf(references);
        if (candidates.isEmpty()) throw new IllegalArgumentException("no candidate units");
        if (candidates.stream().distinct().count() != candidates.size()) throw new IllegalArgumentException("candidate units repeat");
        if (perRound <= 0 || rounds <= 0) throw new IllegalArgumentException("per_round and rounds must be positive");
        if (randomSets < 0 || maxEvaluations <= 0) throw new IllegalArgumentException("random_sets must be >= 0 and max_evaluations positive");
        if (maxTime.isNegative() || maxTime.isZero()) throw new IllegalArgumentException("max_time must be positive");
    }

    /** Held-out measurements the report takes: baseline, chosen set, random sets, references. */
    int heldOutEvaluations() {
        return 2 + randomSets + references.size();
    }

    /** The fewest evaluations a search can run with: the baseline, one full round, the sweep and the report. */
    public int minimumEvaluations() {
        return 1 + candidates.size() + sweep.size() + heldOutEvaluations();
    }
}
