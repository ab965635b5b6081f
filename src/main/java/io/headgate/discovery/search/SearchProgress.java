package io.headgate.discovery.search;

import java.util.List;

/**
 * Where a search stands: its phase ({@code baseline}, {@code round}, {@code sweep}, {@code held-out}),
 * the round, candidates measured of this phase's total, evaluations spent, the set chosen so far and
 * its development score.
 */
public record SearchProgress(String phase, int round, int rounds, int done, int total, int evaluations, List<Unit> chosen, double devScore) {
    public SearchProgress {
        chosen = List.copyOf(chosen);
    }
}
