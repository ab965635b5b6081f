package io.headgate.discovery.search;

import io.headgate.steer.ProfileSpec;

import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * What a search optimises on a kind of model: a score and guard measures of candidate profiles on
 * two disjoint splits of its examples — development (selection) and held-out (the report).
 */
public interface Objective {

    enum Split { DEV, HELD_OUT }

    /** For progress and provenance, e.g. "brackets depth 7-10 accuracy". */
    String describe();

    /** The guard measures, in the order measurements report them. */
    List<Guard> guards();

    int examples(Split split);

    /** Candidates measured in one call, so their rows share batches and fit the background queue. */
    int batch();

    /** Each candidate's measurement on the split, in order; checks {@code cancelled} while it waits. */
    List<Measurement> measure(List<ProfileSpec> candidates, Split split, BooleanSupplier cancelled) throws Exception;
}
