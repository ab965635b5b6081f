package io.headgate.api;

import io.headgate.api.v1.ForecastEvent;
import io.headgate.api.v1.ForecastFinished;
import io.headgate.api.v1.ForecastIssued;
import io.headgate.api.v1.ForecastRequest;
import io.headgate.api.v1.ForecastScored;
import io.headgate.api.v1.ForecastStart;
import io.headgate.api.v1.ForecastStarted;
import io.headgate.api.v1.ProfileScore;
import io.headgate.engine.StreamEvent;
import io.headgate.engine.forecast.ForecastMessage;
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
import io.smallrye.mutiny.subscription.MultiEmitter;

import java.util.ArrayList;
import java.util.List;

/**
 * One Forecaster.Forecast call: validates the Start into a {@link io.headgate.engine.forecast.ForecastRequest}
 * (the history, seasonality, horizon, levels and the profiles compared), hands the client's
 * observations to the stream in order, and maps forecasts and scores to protobuf. Ordering,
 * cancellation and faults are {@link StreamCall}'s.
 */
final class ForecastCall extends StreamCall<ForecastRequest, ForecastState, ForecastMessage, ForecastOutput, ForecastSummary, ForecastEvent> {

    private final ModelHost models;
    private final SteeringResolver resolver;
    private final ExperimentRegistry experiments;
    private volatile ForecastModel model;
    private volatile ForecastStarted.Builder started;
    private boolean closed;

    ForecastCall(MultiEmitter<? super StreamEvent<ForecastOutput, ForecastSummary>> emitter, ModelHost models, SteeringResolver resolver,
                 ExperimentRegistry experiments) {
        super(emitter);
        this.models = models;
        this.resolver = resolver;
        this.experiments = experiments;
    }

    @Override
    void dispatch(ForecastRequest request) {
        switch (request.getKindCase()) {
            case START -> {
                begin();
                start(request.getStart());
            }
            case OBSERVE -> {
                requireStarted("observe");
                if (closed) throw Errors.precondition("observe", "the stream was closed; no observations after Close");
                double[] values = new double[request.getObserve().getValuesCount()];
                if (values.length == 0) throw Errors.invalid("observe.values", "empty");
                for (int i = 0; i < values.length; i++) {
                    values[i] = request.getObserve().getValues(i);
                    if (Double.isInfinite(values[i])) throw Errors.invalid("observe.values[" + i + "]", values[i] + "; values must be finite or NaN (missing)");
                }
                deliver(new ForecastMessage.Observe(values));
            }
            case STEER -> {
                requireStarted("steer");
                steer(request.getSteer(), resolver, model.manifest(), "a forecast recomputes its whole context anyway");
            }
            case ACK -> {
                requireStarted("ack");
                ack(request.getAck().getConsumed());
            }
            case CLOSE -> {
                requireStarted("close");
                if (closed) throw Errors.precondition("close", "the stream was already closed");
                closed = true;
                deliver(new ForecastMessage.Close());
            }
            case KIND_NOT_SET -> throw Errors.invalid("request", "set one of start, observe, steer, ack or close");
        }
    }

    private void start(ForecastStart s) {
        model = Requests.readyModel(models, s.getModel(), "start.model", ForecastModel.class, "Forecaster.Forecast");
        BundleManifest m = model.manifest();
        Forecasts.Series series = Forecasts.series("start", s.getContextList(), s.getHorizon(), s.getSeasonalityCase() == ForecastStart.SeasonalityCase.FREQUENCY
                ? s.getFrequency() : null, s.getSeasonalityCase() == ForecastStart.SeasonalityCase.SEASON_LENGTH ? s.getSeasonLength() : -1, m.forecast());
        int[] levels = Forecasts.levels("start.quantile_levels", s.getQuantileLevelsList(), m.forecast());
        Requests.Assigned assigned = Requests.startSteering(resolver, experiments, m, s.getExperiment(), s.getRoutingKey(),
                s.hasSteering() ? s.getSteering() : null, inlineNumber(s.getSteering()));
        List<Steering> compared = new ArrayList<>();
        for (int i = 0; i < s.getCompareCount(); i++) {
            var c = s.getCompare(i);
            compared.add(Requests.steering(resolver, m, c, "start.compare[" + i + "]", inlineNumber(c)));
        }
        if (compared.stream().noneMatch(c -> c.tag().profile().equals(SteeringResolver.IDENTITY))) {
            compared.add(resolver.identity(m.name(), m.dimensions())); // identity is always compared
        }
        if (1 + compared.size() > model.workload().maxProfiles()) {
            throw Errors.invalid("start.compare", s.getCompareCount() + " profiles (with identity " + compared.size() + "); a stream compares at most "
                    + (model.workload().maxProfiles() - 1) + " besides its own, identity included");
        }
        long refresh = Integer.toUnsignedLong(s.getRefreshEvery());
        ForecastState state;
        try {
            state = model.workload().open(new io.headgate.engine.forecast.ForecastRequest(series.context(), series.season(), series.horizon(), levels,
                    (int) Math.max(1, Math.min(refresh, Integer.MAX_VALUE)), compared, false));
        } catch (IllegalArgumentException e) {
            throw Errors.invalid("start", e.getMessage());
        }
        ContextWindow window = ContextWindow.of(series.context(), m.forecast());
        ForecastStarted.Builder b = ForecastStarted.newBuilder().setContextUsed(window.used().length).setContextDropped(window.dropped())
                .setSeasonLength(series.season()).setHorizon(series.horizon());
        for (int l : levels) b.addQuantileLevels(m.forecast().quantiles().get(l));
        b.addProfiles(assigned.steering().metricLabel());
        for (Steering c : compared) if (!c.metricLabel().equals(assigned.steering().metricLabel())) b.addProfiles(c.metricLabel());
        started = b;
        submitted(model.scheduler(), model.scheduler().submit(state, assigned.steering(), s.getCreditWindow(), assigned.arm(), this));
    }

    @Override
    ForecastEvent map(StreamEvent<ForecastOutput, ForecastSummary> event) {
        ForecastEvent.Builder b = ForecastEvent.newBuilder();
        switch (event) {
            case StreamEvent.Started<ForecastOutput, ForecastSummary> s -> b.setStarted(started.clone().setStarted(ProtoMapping.started(s)));
            case StreamEvent.Output<ForecastOutput, ForecastSummary>(ForecastOutput.Issued issued) -> b.setForecast(issued(issued));
            case StreamEvent.Output<ForecastOutput, ForecastSummary>(ForecastOutput.Scored scored) -> b.setScored(scored(scored));
            case StreamEvent.SteeringApplied<ForecastOutput, ForecastSummary> a -> b.setSteeringApplied(ProtoMapping.steeringApplied(a));
            case StreamEvent.SteeringRejected<ForecastOutput, ForecastSummary> r -> b.setSteeringRejected(ProtoMapping.steeringRejected(r));
            case StreamEvent.Finished<ForecastOutput, ForecastSummary> f -> b.setFinished(finished(f));
        }
        return b.build();
    }

    private ForecastIssued issued(ForecastOutput.Issued f) {
        ForecastIssued.Builder b = ForecastIssued.newBuilder().setOrigin(f.origin());
        for (ForecastOutput.ProfileForecast p : f.profiles()) b.addProfiles(Forecasts.profile(p, started.getQuantileLevelsList()));
        for (double v : f.seasonalNaive()) b.addSeasonalNaive(v);
        return b.build();
    }

    private static ForecastScored scored(ForecastOutput.Scored s) {
        ForecastScored.Builder b = ForecastScored.newBuilder().setIndex(s.index()).setForecastsScored(s.forecastsScored())
                .setSeasonalNaive(score(s.seasonalNaive()));
        for (ForecastOutput.Score p : s.profiles()) b.addProfiles(score(p));
        return b.build();
    }

    static ProfileScore score(ForecastOutput.Score s) {
        return ProfileScore.newBuilder().setProfile(s.profile()).setSteps(s.steps()).setMae(s.mae()).setMase(s.mase()).setSmape(s.smape())
                .setWql(s.wql()).setCoverage(s.coverage()).setRelativeMase(s.relativeMase()).setRelativeWql(s.relativeWql()).build();
    }

    private static ForecastFinished finished(StreamEvent.Finished<ForecastOutput, ForecastSummary> f) {
        ForecastFinished.Builder b = ForecastFinished.newBuilder().setTotalSeconds(f.summary().totalSeconds());
        switch (f.ending()) {
            case StreamEvent.Ending.Completed<ForecastSummary>(ForecastSummary s) -> {
                b.setReason(ForecastFinished.Reason.CLOSED).setObservations(s.observations()).setForecasts(s.forecasts())
                        .setSeasonalNaive(score(s.seasonalNaive()));
                for (ForecastOutput.Score p : s.profiles()) b.addProfiles(score(p));
            }
            case StreamEvent.Ending.Shutdown<ForecastSummary> x -> b.setReason(ForecastFinished.Reason.SHUTDOWN);
            case StreamEvent.Ending.IdleTimeout<ForecastSummary> x -> b.setReason(ForecastFinished.Reason.IDLE_TIMEOUT);
        }
        return b.build();
    }
}
