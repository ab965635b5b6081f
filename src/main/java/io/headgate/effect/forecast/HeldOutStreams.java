package io.headgate.effect.forecast;

import io.headgate.engine.Fault;
import io.headgate.engine.Scheduler;
import io.headgate.engine.Stream;
import io.headgate.engine.StreamEvent;
import io.headgate.engine.StreamSink;
import io.headgate.engine.forecast.ErrorSums;
import io.headgate.engine.forecast.ForecastMessage;
import io.headgate.engine.forecast.ForecastOutput;
import io.headgate.engine.forecast.ForecastRequest;
import io.headgate.engine.forecast.ForecastState;
import io.headgate.engine.forecast.ForecastSummary;
import io.headgate.engine.forecast.ForecastWorkload;
import io.headgate.steer.Steering;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Scores a steering of a forecaster on held-out windows of real series through the model's own
 * scheduler: each window is a low-priority stream that forecasts once from its history. The
 * windows are the first {@code perFrequency} rolling origins of each frequency, in the set's order,
 * so every steering sees the same windows and two steerings' per-window errors are paired. Running
 * out of time cancels the forecasts still running.
 */
public final class HeldOutStreams {

    /** The scores, and each window's mean absolute error (the median against the actuals), in window order. */
    public record Outcome(HeldOutScores.Summary overall, Map<String, HeldOutScores.Summary> byFrequency, double[] windowMae) {
    }

    private final Scheduler<ForecastState, ForecastMessage, ForecastOutput, ForecastSummary> scheduler;
    private final ForecastWorkload workload;
    private final HeldOutSet set;

    public HeldOutStreams(Scheduler<ForecastState, ForecastMessage, ForecastOutput, ForecastSummary> scheduler, ForecastWorkload workload,
                          HeldOutSet set) {
        this.scheduler = scheduler;
        this.workload = workload;
        this.set = set;
    }

    /** The first {@code perFrequency} windows of every frequency (all when 0). */
    public List<HeldOutWindow> windows(int perFrequency) {
        Map<String, Integer> taken = new LinkedHashMap<>();
        List<HeldOutWindow> out = new ArrayList<>();
        for (HeldOutWindow w : set.windows()) {
            int n = taken.merge(w.series().frequency(), 1, Integer::sum);
            if (perFrequency == 0 || n <= perFrequency) out.add(w);
        }
        return out;
    }

    public Outcome evaluate(Steering steering, int perFrequency, Duration timeout) throws Exception {
        List<HeldOutWindow> windows = windows(perFrequency);
        List<Double> levelList = workload.manifest().forecast().quantiles();
        int[] levels = new int[levelList.size()];
        for (int i = 0; i < levels.length; i++) levels[i] = i;
        List<CompletableFuture<ForecastOutput.ProfileForecast>> forecasts = new ArrayList<>(windows.size());
        List<Stream<ForecastState, ForecastOutput, ForecastSummary>> streams = new ArrayList<>(windows.size());
        try {
            for (HeldOutWindow w : windows) {
                var request = new ForecastRequest(w.history(), w.series().seasonLength(), w.series().horizon(), levels, 1, List.of(), true);
                First sink = new First();
                streams.add(scheduler.submitBackground(workload.open(request), steering, sink));
                forecasts.add(sink.forecast);
            }
            HeldOutScores scores = new HeldOutScores(levelList);
            double[] mae = new double[windows.size()];
            long deadline = System.nanoTime() + timeout.toNanos();
            for (int i = 0; i < windows.size(); i++) {
                ForecastOutput.ProfileForecast f = forecasts.get(i).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                int h = f.median().length;
                double[][] stepMajor = new double[h][levels.length];
                for (int t = 0; t < h; t++) for (int l = 0; l < levels.length; l++) stepMajor[t][l] = f.quantiles()[l][t];
                HeldOutWindow w = windows.get(i);
                scores.add(w, stepMajor);
                mae[i] = new ErrorSums(levels.length).add(w.actual(), f.median(), stepMajor,
                        levelList.stream().mapToDouble(Double::doubleValue).toArray()).mae();
            }
            return new Outcome(scores.overall(), scores.byFrequency(), mae);
        } catch (TimeoutException | InterruptedException | ExecutionException | RuntimeException e) {
            for (var s : streams) scheduler.cancel(s); // free the slots: nobody will read these forecasts
            throw e;
        }
    }

    /** Keeps a one-shot stream's forecast. */
    private static final class First implements StreamSink<ForecastOutput, ForecastSummary> {
        final CompletableFuture<ForecastOutput.ProfileForecast> forecast = new CompletableFuture<>();

        @Override
        public void event(StreamEvent<ForecastOutput, ForecastSummary> event) {
            switch (event) {
                case StreamEvent.Output<ForecastOutput, ForecastSummary>(ForecastOutput.Issued issued) -> forecast.complete(issued.profiles().getFirst());
                case StreamEvent.Finished<ForecastOutput, ForecastSummary> f ->
                        forecast.completeExceptionally(new IllegalStateException("ended without a forecast: " + f.ending()));
                default -> {
                }
            }
        }

        @Override
        public void complete() {
            forecast.completeExceptionally(new IllegalStateException("ended without a forecast"));
        }

        @Override
        public void fail(Fault fault) {
            forecast.completeExceptionally(new IllegalStateException(fault.message()));
        }
    }
}
