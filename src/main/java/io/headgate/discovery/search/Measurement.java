package io.headgate.discovery.search;

import java.util.List;

/** A candidate measured on one split: the objective's score and each guard, in the objective's guard order. */
public record Measurement(Measure score, List<Measure> guards) {
    public Measurement {
        guards = List.copyOf(guards);
    }

    /** The first guard this costs more than its tolerance against {@code baseline}, or -1 when none. */
    public int violatedGuard(Measurement baseline, List<Guard> limits) {
        for (int g = 0; g < guards.size(); g++) {
            if (guards.get(g).worseThan(baseline.guards.get(g)) > limits.get(g).tolerance()) return g;
        }
        return -1;
    }
}
