package io.headgate.effect.forecast;

import io.headgate.engine.Fault;
import io.headgate.engine.Scheduler;
import io.headgate.engine.StreamEvent;
import io.headgate.engine.forecast.ErrorSums;
import io.headgate.engine.forecast.ForecastMessage;
import io.headgate.engine.forecast.ForecastOutput;
import io.headgate.engine.forecast.ForecastRequest;
import io.headgate.engine.forecast.ForecastState;
import io.headgate.engine.forecast.ForecastSummary;
import io.headgate.engine.forecast.ForecastWorkload;
import io.headgate.effect.BackgroundRuns;
import io.headgate.steer.Steering;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;

/**
 * Scores a steering of a forecaster on held-out windows of real series through the model's own
 * scheduler: each window is a low-priority stream that forecasts once from its history. The
 * windows are the first {@code perFrequency} rolling origins of each frequency, in the set's order,
 * so every steering sees the same windows and two steerings' per-window errors are paired. Running
 * out of time cancels the forecasts still running.
 */
public final class HeldOutStreams {

    /**
     * The scores, and per window (in window order) its mean absolute error (the median against the
     * actuals) and that error over the window's MASE scale.
     */
    public record Outcome(HeldOutScores.Summary overall, Map<String, HeldOutScores.Summary> byFrequency, double[] windowMae,
                          double[] windowMase) {
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
        return windows(set.windows(), perFrequency);
    }

    /** The first {@code perFrequency} of {@code windows} of every frequency (all when 0), in their order. */
    public static List<HeldOutWindow> windows(List<HeldOutWindow> windows, int perFrequency) {
        Map<String, Integer> taken = new LinkedHashMap<>();
        List<HeldOutWindow> out = new ArrayList<>();
        for (HeldOutWindow w : windows) {
            int n = taken.merge(w.series().frequency(), 1, Integer::sum);
            if (perFrequency == 0 || n <= perFrequency) out.add(w);
        }
        return out;
    }

    public Outcome evaluate(Steering steering, int perFrequency, Duration timeout) throws Exception {
        List<HeldOutWindow> windows = windows(perFrequency);
        return evaluate(List.of(steering), windows, windows.size(), timeout, () -> false).getFirst();
    }

    /**
     * Each steering's errors on the same windows, so any two outcomes are paired. At most
     * {@code inFlight} forecasts run at once; the steerings' rows share the scheduler's batches.
     */
    public List<Outcome> evaluate(List<Steering> steerings, List<HeldOutWindow> windows, int inFlight, Duration timeout,
                                  BooleanSupplier cancelled) throws Exception {
        if (windows.isEmpty()) throw new IllegalArgumentException("no windows to forecast");
        List<Double> levelList = workload.manifest().forecast().quantiles();
        double[] levelValues = levelList.stream().mapToDouble(Double::doubleValue).toArray();
        int[] levels = new int[levelList.size()];
        for (int i = 0; i < levels.length; i++) levels[i] = i;
        int n = windows.size();
        List<ForecastOutput.ProfileForecast> forecasts = BackgroundRuns.all(scheduler, steerings.size() * n, i -> {
            HeldOutWindow w = windows.get(i % n);
            var request = new ForecastRequest(w.history(), w.series().seasonLength(), w.series().horizon(), levels, 1, List.of(), true);
            return new BackgroundRuns.Run<>(workload.open(request), steerings.get(i / n), new First());
        }, inFlight, timeout, cancelled);
        List<Outcome> out = new ArrayList<>(steerings.size());
        for (int s = 0; s < steerings.size(); s++) {
            HeldOutScores scores = new HeldOutScores(levelList);
            double[] mae = new double[n], mase = new double[n];
            for (int i = 0; i < n; i++) {
                ForecastOutput.ProfileForecast f = forecasts.get(s * n + i);
                int h = f.median().length;
                double[][] stepMajor = new double[h][levels.length];
                for (int t = 0; t < h; t++) for (int l = 0; l < levels.length; l++) stepMajor[t][l] = f.quantiles()[l][t];
                HeldOutWindow w = windows.get(i);
                scores.add(w, stepMajor);
                mae[i] = new ErrorSums(levels.length).add(w.actual(), f.median(), stepMajor, levelValues).mae();
                double scale = w.scale();
                mase[i] = scale > 0 ? mae[i] / scale : Double.NaN; // a flat history has no scale
            }
            out.add(new Outcome(scores.overall(), scores.byFrequency(), mae, mase));
        }
        return out;
    }

    /** Keeps a one-shot stream's forecast. */
    private static final class First implements BackgroundRuns.Collector<ForecastOutput, ForecastSummary, ForecastOutput.ProfileForecast> {
        final CompletableFuture<ForecastOutput.ProfileForecast> forecast = new CompletableFuture<>();

        @Override
        public CompletableFuture<ForecastOutput.ProfileForecast> result() {
            return forecast;
        }

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
