package io.headgate.api;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.headgate.api.v1.ForecastBatchRequest;
import io.headgate.api.v1.ForecastBatchResponse;
import io.headgate.api.v1.ForecastEvent;
import io.headgate.api.v1.ForecastRequest;
import io.headgate.api.v1.Forecaster;
import io.headgate.api.v1.SeriesForecast;
import io.headgate.api.v1.SeriesInput;
import io.headgate.engine.Fault;
import io.headgate.engine.Rejection;
import io.headgate.engine.Stream;
import io.headgate.engine.StreamEvent;
import io.headgate.engine.StreamSink;
import io.headgate.engine.forecast.ForecastOutput;
import io.headgate.engine.forecast.ForecastState;
import io.headgate.engine.forecast.ForecastSummary;
import io.headgate.model.BundleManifest;
import io.headgate.model.forecast.ContextWindow;
import io.headgate.server.ModelHost;
import io.headgate.server.forecast.ForecastModel;
import io.headgate.steer.ExperimentRegistry;
import io.headgate.steer.Steering;
import io.headgate.steer.SteeringResolver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code headgate.v1.Forecaster}: a bidirectional call per series, and a unary call answering many
 * series at once — each series a one-shot stream of the model's scheduler, so they share batches and
 * each result equals the series forecast alone.
 */
@GrpcService
public class ForecastService implements Forecaster {

    private static final Logger LOG = Logger.getLogger(ForecastService.class);
    /** Series one ForecastBatch may carry. */
    static final int MAX_BATCH = 1024;
    static final long BATCH_TIMEOUT_SECONDS = 120;

    @Inject
    ModelHost models;
    @Inject
    SteeringResolver resolver;
    @Inject
    ExperimentRegistry experiments;

    @Override
    public Multi<ForecastEvent> forecast(Multi<ForecastRequest> requests) {
        return StreamCall.<ForecastRequest, ForecastOutput, ForecastSummary, ForecastEvent>serve(requests,
                emitter -> new ForecastCall(emitter, models, resolver, experiments));
    }

    @Override
    @Blocking
    public Uni<ForecastBatchResponse> forecastBatch(ForecastBatchRequest r) {
        return Uni.createFrom().item(() -> {
            try {
                return batch(r);
            } catch (StatusRuntimeException e) {
                throw e;
            } catch (Rejection e) {
                throw Errors.of(e);
            } catch (Exception e) {
                throw Errors.internal("the batch forecast", e);
            }
        });
    }

    private ForecastBatchResponse batch(ForecastBatchRequest r) throws Exception {
        ForecastModel model = Requests.readyModel(models, r.getModel(), "model", ForecastModel.class, "Forecaster.ForecastBatch");
        BundleManifest m = model.manifest();
        if (r.getSeriesCount() == 0) throw Errors.invalid("series", "empty");
        if (r.getSeriesCount() > MAX_BATCH) throw Errors.invalid("series", r.getSeriesCount() + " series; a batch takes at most " + MAX_BATCH);
        int[] levels = Forecasts.levels("quantile_levels", r.getQuantileLevelsList(), m.forecast());
        Steering steering = r.hasSteering() ? Requests.steering(resolver, m, r.getSteering(), "steering", 1) : resolver.identity(m.name(), m.dimensions());
        List<Forecasts.Series> series = new ArrayList<>();
        for (int i = 0; i < r.getSeriesCount(); i++) {
            SeriesInput in = r.getSeries(i);
            series.add(Forecasts.series("series[" + i + "]", in.getContextList(), in.getHorizon(),
                    in.getSeasonalityCase() == SeriesInput.SeasonalityCase.FREQUENCY ? in.getFrequency() : null,
                    in.getSeasonalityCase() == SeriesInput.SeasonalityCase.SEASON_LENGTH ? in.getSeasonLength() : -1, m.forecast()));
        }
        List<CompletableFuture<ForecastOutput.Issued>> results = new ArrayList<>();
        List<Stream<ForecastState, ForecastOutput, ForecastSummary>> streams = new ArrayList<>();
        try {
            for (Forecasts.Series s : series) {
                var state = model.workload().open(new io.headgate.engine.forecast.ForecastRequest(s.context(), s.season(), s.horizon(), levels, 1,
                        List.of(), true));
                First sink = new First();
                streams.add(model.scheduler().submit(state, steering, 0, sink));
                results.add(sink.issued);
            }
            List<Double> levelValues = new ArrayList<>();
            for (int l : levels) levelValues.add(m.forecast().quantiles().get(l));
            ForecastBatchResponse.Builder out = ForecastBatchResponse.newBuilder();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(BATCH_TIMEOUT_SECONDS);
            for (int i = 0; i < results.size(); i++) {
                ForecastOutput.Issued f = results.get(i).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                ContextWindow w = ContextWindow.of(series.get(i).context(), m.forecast());
                SeriesForecast.Builder sf = SeriesForecast.newBuilder().setForecast(Forecasts.profile(f.profiles().getFirst(), levelValues))
                        .setContextUsed(w.used().length).setContextDropped(w.dropped());
                for (double v : f.seasonalNaive()) sf.addSeasonalNaive(v);
                out.addSeries(sf);
            }
            return out.build();
        } catch (TimeoutException e) {
            for (var s : streams) model.scheduler().cancel(s);
            throw Status.DEADLINE_EXCEEDED.withDescription("the batch did not finish within " + BATCH_TIMEOUT_SECONDS + " s").asRuntimeException();
        } catch (Exception e) {
            for (var s : streams) model.scheduler().cancel(s);
            throw e;
        }
    }

    /** Keeps a one-shot stream's forecast. */
    private static final class First implements StreamSink<ForecastOutput, ForecastSummary> {
        final CompletableFuture<ForecastOutput.Issued> issued = new CompletableFuture<>();

        @Override
        public void event(StreamEvent<ForecastOutput, ForecastSummary> event) {
            if (event instanceof StreamEvent.Output<ForecastOutput, ForecastSummary>(ForecastOutput.Issued f)) issued.complete(f);
            else if (event instanceof StreamEvent.Finished<ForecastOutput, ForecastSummary> f && !issued.isDone()) {
                issued.completeExceptionally(new IllegalStateException("ended without a forecast: " + f.ending()));
            }
        }

        @Override
        public void complete() {
        }

        @Override
        public void fail(Fault fault) {
            LOG.debugf("a batch series failed: %s", fault.message());
            issued.completeExceptionally(new IllegalStateException(fault.message()));
        }
    }
}
