package io.headgate.api;

import io.headgate.api.v1.RandomSetScore;
import io.headgate.api.v1.ReferenceScore;
import io.headgate.api.v1.SearchEvent;
import io.headgate.api.v1.SearchMeasurement;
import io.headgate.api.v1.SearchPick;
import io.headgate.api.v1.SearchScore;
import io.headgate.api.v1.SearchUnit;
import io.headgate.api.v1.SweepPoint;
import io.headgate.discovery.search.Measure;
import io.headgate.discovery.search.Measurement;
import io.headgate.discovery.search.SearchProgress;
import io.headgate.discovery.search.SearchResult;
import io.headgate.discovery.search.Unit;

import java.util.List;
import java.util.Locale;

/** Search progress and results as protobuf messages; every measurement beside the baseline of its split. */
final class SearchMapping {
    private SearchMapping() {
    }

    static SearchEvent progress(SearchProgress p) {
        var b = io.headgate.api.v1.SearchProgress.newBuilder().setPhase(p.phase()).setRound(p.round()).setRounds(p.rounds()).setDone(p.done())
                .setTotal(p.total()).setEvaluations(p.evaluations()).setBestScore(p.devScore());
        p.chosen().forEach(u -> b.addChosen(unit(u)));
        return SearchEvent.newBuilder().setProgress(b).build();
    }

    static SearchEvent result(String id, SearchResult r) {
        var b = io.headgate.api.v1.SearchResult.newBuilder().setSearchId(id).setObjective(r.objective()).setStrength(r.intervention().strength())
                .setDevBaseline(measurement(r.devBaseline(), r.devBaseline())).setDevChosen(measurement(r.devChosen(), r.devBaseline()))
                .setHeldOutBaseline(measurement(r.heldOutBaseline(), r.heldOutBaseline()))
                .setHeldOutChosen(measurement(r.heldOutChosen(), r.heldOutBaseline())).setStop(r.stop().name().toLowerCase(Locale.ROOT))
                .setEvaluations(r.evaluations()).setDevExamples(r.devExamples()).setHeldOutExamples(r.heldOutExamples())
                .setSeconds(r.elapsed().toNanos() / 1e9);
        r.picks().forEach(p -> b.addPicks(pick(p)));
        r.firstRound().forEach(p -> b.addFirstRound(pick(p)));
        r.sweep().forEach(s -> b.addSweep(SweepPoint.newBuilder().setStrength(s.strength()).setDev(measurement(s.dev(), r.devBaseline()))
                .setAdmissible(s.admissible())));
        r.randomSets().forEach(s -> b.addRandomSets(RandomSetScore.newBuilder().addAllUnits(units(s.units()))
                .setHeldOut(measurement(s.heldOut(), r.heldOutBaseline()))));
        r.references().forEach(s -> b.addReferences(ReferenceScore.newBuilder().setName(s.name()).setHeldOut(measurement(s.heldOut(), r.heldOutBaseline()))));
        if (r.suggested() != null) b.setSuggested(ProtoMapping.spec(r.suggested()));
        return SearchEvent.newBuilder().setResult(b).build();
    }

    private static SearchMeasurement measurement(Measurement m, Measurement baseline) {
        var b = SearchMeasurement.newBuilder().setScore(score(m.score(), baseline.score()));
        for (int g = 0; g < m.guards().size(); g++) b.addGuards(score(m.guards().get(g), baseline.guards().get(g)));
        return b.build();
    }

    private static SearchScore score(Measure m, Measure baseline) {
        double[] d = m.pairedDifference(baseline);
        return SearchScore.newBuilder().setName(m.name()).setLowerIsBetter(m.lowerIsBetter()).setValue(m.value())
                .setDifference(m.value() - baseline.value()).setStandardError(d[1]).build();
    }

    private static SearchPick pick(SearchResult.Pick p) {
        return SearchPick.newBuilder().setUnit(unit(p.unit())).setRound(p.round()).setDevScore(p.devScore()).build();
    }

    private static SearchUnit unit(Unit u) {
        return SearchUnit.newBuilder().setLayer(u.layer()).setHead(u.head()).build();
    }

    private static List<SearchUnit> units(List<Unit> units) {
        return units.stream().map(SearchMapping::unit).toList();
    }
}
