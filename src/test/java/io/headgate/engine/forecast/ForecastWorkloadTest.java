package io.headgate.engine.forecast;

import io.headgate.convert.CheckpointConverter;
import io.headgate.effect.forecast.HeldOutSeries;
import io.headgate.effect.forecast.HeldOutSet;
import io.headgate.engine.EngineMetrics;
import io.headgate.engine.Scheduler;
import io.headgate.engine.StreamEvent;
import io.headgate.model.ControlBatch;
import io.headgate.model.ControlRow;
import io.headgate.model.forecast.ForecastGraph;
import io.headgate.model.forecast.QuantileForecast;
import io.headgate.steer.Steering;
import io.headgate.steer.SteeringTag;
import io.headgate.testing.CollectingSink;
import io.headgate.testing.SeriesTsfm;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

/**
 * Forecast streams through the scheduler on real held-out series: forecasts equal the graph run
 * directly, live scores equal an offline computation over the same forecasts and actuals, a Steer
 * applies from the next origin, and a long stream's memory stays bounded.
 */
class ForecastWorkloadTest {

    static final int[] ALL_LEVELS = {0, 1, 2, 3, 4, 5, 6, 7, 8};

    static Steering identity(ForecastGraph graph) {
        return new Steering(SteeringTag.IDENTITY, ControlRow.identity(graph.manifest().dimensions()), null);
    }

    static Steering pruned(ForecastGraph graph) {
        ControlRow row = ControlRow.identity(graph.manifest().dimensions());
        int H = graph.manifest().dimensions().heads();
        row.gain()[2 * H] = 0; // L2H0
        row.gain()[3 * H + 2] = 0; // L3H2
        return new Steering(new SteeringTag("prune-2", 1), row, null);
    }

    static HeldOutSeries series(String frequency) throws Exception {
        return HeldOutSet.read(SeriesTsfm.HELD_OUT).series().stream().filter(s -> s.frequency().equals(frequency)
                && s.values().length > s.testLength() + 40).findFirst().orElseThrow();
    }

    static ForecastWorkload workload(ForecastGraph graph) {
        return new ForecastWorkload(graph, 8, 4, ForecastMeters.detached("series-tsfm"));
    }

    @Test
    void liveScoresEqualAnOfflineComputationOnTheSameForecastsAndActuals() throws Exception {
        HeldOutSeries s = series("monthly");
        int origin = s.values().length - s.testLength(), h = 12;
        double[] history = Arrays.copyOf(s.values(), origin), actual = Arrays.copyOfRange(s.values(), origin, s.values().length);
        try (ForecastGraph graph = SeriesTsfm.graph(CheckpointConverter.Options.STEERABLE)) {
            ForecastWorkload w = workload(graph);
            try (var scheduler = new Scheduler<>("series-tsfm", w, new Scheduler.Config(8), EngineMetrics.detached())) {
                var sink = new CollectingSink<ForecastOutput, ForecastSummary>();
                var request = new ForecastRequest(history, s.seasonLength(), h, ALL_LEVELS, 3, List.of(identity(graph)), false);
                var stream = scheduler.submit(w.open(request), pruned(graph), 0, sink);
                List<ForecastOutput.Issued> issued = new ArrayList<>();
                issued.add((ForecastOutput.Issued) sink.nextOutput());
                int fed = Math.min(actual.length, 20);
                for (int i = 0; i < fed; i++) {
                    scheduler.deliver(stream, new ForecastMessage.Observe(new double[]{actual[i]}));
                    assertThat(sink.nextOutput()).isInstanceOf(ForecastOutput.Scored.class);
                    if ((i + 1) % 3 == 0) issued.add((ForecastOutput.Issued) sink.nextOutput()); // refreshed every 3 observations
                }
                scheduler.deliver(stream, new ForecastMessage.Close());
                var events = sink.awaitDone();
                var summary = ((StreamEvent.Ending.Completed<ForecastSummary>) ((StreamEvent.Finished<ForecastOutput, ForecastSummary>) events.getLast())
                        .ending()).result();
                assertThat(summary.forecasts()).isEqualTo(issued.size());
                assertThat(summary.observations()).isEqualTo(fed);

                // offline: every forecast step that has an actual, per profile and for seasonal naive
                double[] levels = graph.spec().quantiles().stream().mapToDouble(Double::doubleValue).toArray();
                for (String profile : List.of("prune-2", "identity")) {
                    ErrorSums model = new ErrorSums(9), naive = new ErrorSums(9);
                    for (ForecastOutput.Issued f : issued) {
                        ForecastOutput.ProfileForecast p = f.profiles().stream().filter(x -> x.profile().equals(profile)).findFirst().orElseThrow();
                        int lead0 = (int) (f.origin() - origin);
                        int n = Math.min(h, fed - lead0);
                        if (n <= 0) continue;
                        double[] y = Arrays.copyOfRange(actual, lead0, lead0 + n);
                        double[][] q = new double[n][9];
                        for (int t = 0; t < n; t++) for (int l = 0; l < 9; l++) q[t][l] = p.quantiles()[l][t];
                        model.add(y, Arrays.copyOf(p.median(), n), q, levels);
                        naive.addPointAt(y, Arrays.copyOf(f.seasonalNaive(), n), levels);
                    }
                    ForecastOutput.Score live = summary.profiles().stream().filter(x -> x.profile().equals(profile)).findFirst().orElseThrow();
                    assertThat(live.steps()).isEqualTo(model.count());
                    assertThat(live.mae()).isCloseTo(model.mae(), within(1e-9));
                    assertThat(live.smape()).isCloseTo(model.smape(), within(1e-9));
                    assertThat(live.wql()).isCloseTo(model.weightedQuantileLoss(), within(1e-9));
                    assertThat(live.coverage()).isCloseTo(model.coverage(), within(1e-12));
                    assertThat(live.mase()).isCloseTo(model.mae() / SeasonalNaive.scale(history, s.seasonLength()), within(1e-9));
                    assertThat(live.relativeMase()).isCloseTo(model.mae() / naive.mae(), within(1e-9));
                    assertThat(live.relativeWql()).isCloseTo(model.weightedQuantileLoss() / naive.weightedQuantileLoss(), within(1e-9));
                }
            }
        }
    }

    @Test
    void forecastsEqualTheGraphRunDirectlyAndSeriesBatchedEqualSeriesAlone() throws Exception {
        HeldOutSet set = HeldOutSet.read(SeriesTsfm.HELD_OUT);
        List<double[]> contexts = new ArrayList<>();
        for (HeldOutSeries s : set.series().subList(0, 6)) contexts.add(Arrays.copyOf(s.values(), s.values().length - s.testLength()));
        try (ForecastGraph direct = SeriesTsfm.graph(CheckpointConverter.Options.STEERABLE);
             ForecastGraph served = SeriesTsfm.graph(CheckpointConverter.Options.STEERABLE)) {
            ControlBatch controls = new ControlBatch(direct.manifest().dimensions(), contexts.size());
            for (int i = 0; i < contexts.size(); i++) controls.set(i, ControlRow.identity(direct.manifest().dimensions()));
            QuantileForecast expected = direct.forward(contexts, controls);
            ForecastWorkload w = workload(served);
            try (var scheduler = new Scheduler<>("series-tsfm", w, new Scheduler.Config(8), EngineMetrics.detached())) {
                List<CollectingSink<ForecastOutput, ForecastSummary>> sinks = new ArrayList<>();
                for (double[] c : contexts) {
                    var sink = new CollectingSink<ForecastOutput, ForecastSummary>();
                    sinks.add(sink);
                    scheduler.submit(w.open(new ForecastRequest(c, 1, 64, ALL_LEVELS, 1, List.of(), true)), identity(served), 0, sink);
                }
                for (int i = 0; i < contexts.size(); i++) {
                    var f = ((ForecastOutput.Issued) sinks.get(i).nextOutput()).profiles().getFirst();
                    double[][] row = expected.row(i);
                    for (int t = 0; t < 64; t++) {
                        double[] sorted = row[t].clone();
                        Arrays.sort(sorted);
                        assertThat(f.median()[t]).as("series %d step %d", i, t).isEqualTo(sorted[4]);
                        for (int l = 0; l < 9; l++) assertThat(f.quantiles()[l][t]).isEqualTo(sorted[l]);
                    }
                }
            }
        }
    }

    @Test
    void aSteerAppliesFromTheNextOriginAndALongStreamKeepsBoundedState() throws Exception {
        HeldOutSeries s = series("daily");
        double[] history = Arrays.copyOf(s.values(), s.values().length - s.testLength());
        try (ForecastGraph graph = SeriesTsfm.graph(CheckpointConverter.Options.STEERABLE)) {
            ForecastWorkload w = workload(graph);
            try (var scheduler = new Scheduler<>("series-tsfm", w, new Scheduler.Config(8), EngineMetrics.detached())) {
                var sink = new CollectingSink<ForecastOutput, ForecastSummary>();
                ForecastState state = w.open(new ForecastRequest(history, 7, 30, new int[]{0, 4, 8}, 1, List.of(), false));
                var stream = scheduler.submit(state, identity(graph), 0, sink);
                var first = (ForecastOutput.Issued) sink.nextOutput();
                assertThat(first.profiles()).extracting(ForecastOutput.ProfileForecast::profile).containsExactly("identity");
                scheduler.steer(stream, pruned(graph), false);
                scheduler.deliver(stream, new ForecastMessage.Observe(new double[]{history[history.length - 1]}));
                assertThat(sink.nextOutput()).isInstanceOf(ForecastOutput.Scored.class);
                var second = (ForecastOutput.Issued) sink.nextOutput();
                assertThat(second.origin()).isEqualTo(first.origin() + 1);
                assertThat(second.profiles().getFirst().steering()).isEqualTo(new SteeringTag("prune-2", 1));
                assertThat(second.profiles()).extracting(ForecastOutput.ProfileForecast::profile).containsExactly("prune-2");

                // 3000 more observations, in chunks: history and outstanding forecasts stay bounded
                for (int i = 0; i < 3000; i += 100) {
                    double[] chunk = new double[100];
                    for (int j = 0; j < 100; j++) chunk[j] = history[(i + j) % history.length];
                    scheduler.deliver(stream, new ForecastMessage.Observe(chunk));
                }
                await().atMost(Duration.ofSeconds(30)).until(() -> state.observations == 3001);
                assertThat(state.history()).hasSize(graph.spec().contextLength());
                assertThat(state.outstanding.size()).as("forecasts still being scored").isLessThanOrEqualTo(30);
                scheduler.cancel(stream);
            }
        }
    }
}
