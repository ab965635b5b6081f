package io.headgate.api;

import io.grpc.Status;
import io.headgate.api.v1.Close;
import io.headgate.api.v1.ForecastBatchRequest;
import io.headgate.api.v1.ForecastEvent;
import io.headgate.api.v1.ForecastFinished;
import io.headgate.api.v1.ForecastRequest;
import io.headgate.api.v1.ForecastStart;
import io.headgate.api.v1.Forecaster;
import io.headgate.api.v1.Observe;
import io.headgate.api.v1.SeriesInput;
import io.headgate.api.v1.Steering;
import io.headgate.effect.forecast.HeldOutSeries;
import io.headgate.effect.forecast.HeldOutSet;
import io.headgate.server.ModelHost;
import io.headgate.testing.SeriesTsfm;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.mutiny.operators.multi.processors.UnicastProcessor;
import io.smallrye.mutiny.subscription.Cancellable;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Forecaster over real gRPC on the demo forecaster series-tsfm and its held-out real series. */
@QuarkusTest
class ForecastApiTest {

    static final String MODEL = "series-tsfm";

    @GrpcClient("headgate")
    Forecaster forecaster;
    @GrpcClient("headgate")
    io.headgate.api.v1.Profiles profiles;
    @GrpcClient("headgate")
    io.headgate.api.v1.Experiments experiments;
    @Inject
    ModelHost host;
    @Inject
    io.headgate.server.Canaries canaries;
    @io.quarkus.test.common.http.TestHTTPResource("/q/metrics")
    java.net.URI metricsUri;

    final class Call {
        final UnicastProcessor<ForecastRequest> requests = UnicastProcessor.create();
        final LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
        final Cancellable subscription = forecaster.forecast(requests).subscribe().with(inbox::add, inbox::add, () -> inbox.add("done"));

        Call(ForecastStart.Builder start) {
            send(ForecastRequest.newBuilder().setStart(start.setModel(start.getModel().isEmpty() ? MODEL : start.getModel())));
        }

        Call send(ForecastRequest.Builder r) {
            requests.onNext(r.build());
            return this;
        }

        Call observe(double... values) {
            Observe.Builder o = Observe.newBuilder();
            for (double v : values) o.addValues(v);
            return send(ForecastRequest.newBuilder().setObserve(o));
        }

        ForecastEvent next() throws InterruptedException {
            Object o = inbox.poll(20, TimeUnit.SECONDS);
            if (o instanceof ForecastEvent e) return e;
            throw new AssertionError("expected an event, got " + o);
        }

        Status status() throws InterruptedException {
            while (true) {
                Object o = inbox.poll(20, TimeUnit.SECONDS);
                if (o == null) throw new AssertionError("no end within 20 s");
                if (o instanceof Throwable t) return Status.fromThrowable(t);
                if ("done".equals(o)) return Status.OK;
            }
        }
    }

    static HeldOutSeries monthly() throws Exception {
        return HeldOutSet.read(SeriesTsfm.HELD_OUT).series().stream().filter(s -> s.frequency().equals("monthly") && s.testLength() >= 12)
                .findFirst().orElseThrow();
    }

    static ForecastStart.Builder start(double[] context) {
        ForecastStart.Builder b = ForecastStart.newBuilder().setFrequency("monthly").setHorizon(12);
        for (double v : context) b.addContext(v);
        return b;
    }

    @BeforeEach
    void loaded() throws InterruptedException {
        assertThat(host.awaitLoaded(120, TimeUnit.SECONDS)).isTrue();
        assertThat(host.entry(MODEL).state()).as(String.valueOf(host.entry(MODEL).error())).isEqualTo(ModelHost.State.READY);
    }

    @Test
    void aSeriesIsForecastScoredAsActualsArriveAndClosedWithItsScores() throws Exception {
        HeldOutSeries s = monthly();
        int origin = s.values().length - s.testLength();
        double[] history = Arrays.copyOf(s.values(), origin);
        Call c = new Call(start(history).addCompare(Steering.newBuilder().setProfile("prune-2")).setRefreshEvery(2)
                .addQuantileLevels(0.1).addQuantileLevels(0.5).addQuantileLevels(0.9));
        var started = c.next().getStarted();
        assertThat(started.getProfilesList()).containsExactly("identity", "prune-2");
        assertThat(started.getSeasonLength()).isEqualTo(12);
        assertThat(started.getQuantileLevelsList()).containsExactly(0.1, 0.5, 0.9);
        var first = c.next().getForecast();
        assertThat(first.getOrigin()).isEqualTo(origin);
        assertThat(first.getProfilesList()).extracting(p -> p.getProfile()).containsExactly("identity", "prune-2");
        assertThat(first.getProfiles(0).getMedianCount()).isEqualTo(12);
        assertThat(first.getProfiles(0).getQuantilesList()).extracting(q -> q.getLevel()).containsExactly(0.1, 0.5, 0.9);
        assertThat(first.getSeasonalNaiveCount()).isEqualTo(12);
        for (int t = 0; t < 12; t++) {
            var q = first.getProfiles(0).getQuantilesList();
            assertThat(q.get(0).getValues(t)).isLessThanOrEqualTo(q.get(1).getValues(t));
            assertThat(q.get(1).getValues(t)).isEqualTo(first.getProfiles(0).getMedian(t));
            assertThat(q.get(1).getValues(t)).isLessThanOrEqualTo(q.get(2).getValues(t));
        }
        c.observe(s.values()[origin]);
        var scored = c.next().getScored();
        assertThat(scored.getIndex()).isEqualTo(origin);
        assertThat(scored.getForecastsScored()).isEqualTo(1);
        assertThat(scored.getProfilesList()).extracting(p -> p.getSteps()).containsExactly(1L, 1L);
        double y = s.values()[origin];
        assertThat(scored.getProfiles(0).getMae()).isCloseTo(Math.abs(y - first.getProfiles(0).getMedian(0)), org.assertj.core.api.Assertions.within(1e-9));
        c.observe(s.values()[origin + 1]);
        assertThat(c.next().getScored().getForecastsScored()).isEqualTo(1);
        assertThat(c.next().getForecast().getOrigin()).as("refreshed after 2 observations").isEqualTo(origin + 2);
        c.observe(s.values()[origin + 2]);
        assertThat(c.next().getScored().getForecastsScored()).as("two forecasts cover this step").isEqualTo(2);
        c.send(ForecastRequest.newBuilder().setClose(Close.getDefaultInstance()));
        var finished = c.next().getFinished();
        assertThat(finished.getReason()).isEqualTo(ForecastFinished.Reason.CLOSED);
        assertThat(finished.getObservations()).isEqualTo(3);
        assertThat(finished.getForecasts()).isEqualTo(2);
        assertThat(finished.getProfilesList()).extracting(p -> p.getSteps()).containsExactly(4L, 4L);
        assertThat(finished.getSeasonalNaive().getSteps()).isEqualTo(4);
        assertThat(c.status().isOk()).isTrue();
    }

    @Test
    void aBatchOfSeriesEqualsEachSeriesForecastAlone() throws Exception {
        List<HeldOutSeries> all = HeldOutSet.read(SeriesTsfm.HELD_OUT).series().subList(0, 5);
        ForecastBatchRequest.Builder batch = ForecastBatchRequest.newBuilder().setModel(MODEL);
        List<double[]> histories = new ArrayList<>();
        for (HeldOutSeries s : all) {
            double[] h = Arrays.copyOf(s.values(), s.values().length - s.testLength());
            histories.add(h);
            SeriesInput.Builder in = SeriesInput.newBuilder().setHorizon(s.horizon()).setSeasonLength(s.seasonLength());
            for (double v : h) in.addContext(v);
            batch.addSeries(in);
        }
        var response = forecaster.forecastBatch(batch.build()).await().atMost(Duration.ofSeconds(60));
        assertThat(response.getSeriesCount()).isEqualTo(5);
        for (int i = 0; i < 5; i++) {
            HeldOutSeries s = all.get(i);
            ForecastStart.Builder alone = ForecastStart.newBuilder().setHorizon(s.horizon()).setSeasonLength(s.seasonLength());
            for (double v : histories.get(i)) alone.addContext(v);
            Call c = new Call(alone);
            c.next();
            var streamed = c.next().getForecast().getProfiles(0);
            assertThat(response.getSeries(i).getForecast().getMedianList()).as("series %d", i).isEqualTo(streamed.getMedianList());
            assertThat(response.getSeries(i).getForecast().getQuantilesList()).isEqualTo(streamed.getQuantilesList());
            c.subscription.cancel();
        }
    }

    @Test
    void aContextLongerThanTheModelsIsCutToItsMostRecentPart() throws Exception {
        double[] context = new double[700];
        for (int i = 0; i < context.length; i++) context[i] = 10 + Math.sin(i / 3.0);
        Call c = new Call(start(context));
        var started = c.next().getStarted();
        assertThat(started.getContextUsed()).isEqualTo(512);
        assertThat(started.getContextDropped()).isEqualTo(188);
        c.subscription.cancel();
    }

    @Test
    void anObservationAfterCloseIsRefusedNamingTheFieldAndNeverCounted() throws Exception {
        Call c = new Call(start(new double[]{1, 2, 3, 4, 5, 6}));
        c.next();
        c.next();
        c.send(ForecastRequest.newBuilder().setClose(Close.getDefaultInstance()));
        c.observe(7);
        // the call ends either with the Close's final scores (the refusal then reaches a finished call)
        // or with the refusal itself; either way the observation sent after Close is not counted
        List<ForecastEvent> events = new ArrayList<>();
        Status status;
        while (true) {
            Object o = c.inbox.poll(20, TimeUnit.SECONDS);
            if (o instanceof ForecastEvent e) events.add(e);
            else {
                status = o instanceof Throwable t ? Status.fromThrowable(t) : Status.OK;
                break;
            }
        }
        if (status.isOk()) {
            assertThat(events.getLast().getFinished().getObservations()).isZero();
        } else {
            assertThat(status.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
            assertThat(status.getDescription()).startsWith("observe: ");
            assertThat(events).noneMatch(ForecastEvent::hasScored);
        }
    }

    @Test
    void compareScoresForecastArmsOnTheHeldOutSeriesAndCanariesReportTheirError() throws Exception {
        String suffix = java.util.UUID.randomUUID().toString().substring(0, 8);
        io.grpc.Metadata headers = new io.grpc.Metadata();
        headers.put(AdminAuth.AUTHORIZATION, "Bearer test-admin-token");
        var admin = io.quarkus.grpc.GrpcClientUtils.attachHeaders(profiles, headers);
        var experimentsAdmin = io.quarkus.grpc.GrpcClientUtils.attachHeaders(experiments, headers);
        String wrecked = "wrecked-" + suffix; // every head of every layer gated off
        admin.put(io.headgate.api.v1.PutProfileRequest.newBuilder().setModel(MODEL).setName(wrecked).setSpec(io.headgate.api.v1.ProfileSpec.newBuilder()
                .addGains(io.headgate.api.v1.HeadGain.newBuilder().setLayer(-1).setHead(-1).setGain(0))).build()).await().atMost(Duration.ofSeconds(10));
        String name = "ab-" + suffix;
        experimentsAdmin.put(io.headgate.api.v1.PutExperimentRequest.newBuilder().setModel(MODEL).setName(name).setSpec(io.headgate.api.v1.ExperimentSpec.newBuilder()
                .addArms(io.headgate.api.v1.Arm.newBuilder().setName("full").setProfile("identity").setWeight(1))
                .addArms(io.headgate.api.v1.Arm.newBuilder().setName("wrecked").setProfile(wrecked).setWeight(1))).build())
                .await().atMost(Duration.ofSeconds(10));
        var compare = experimentsAdmin.compare(io.headgate.api.v1.CompareExperimentRequest.newBuilder().setModel(MODEL).setName(name).setPerGroup(5).build())
                .await().atMost(Duration.ofMinutes(2));
        var full = compare.getArms(0);
        var broken = compare.getArms(1);
        assertThat(full.getRelativeMase()).as("the full model beats seasonal naive on the held-out windows").isLessThan(1.0);
        assertThat(broken.getRelativeMase()).isGreaterThan(full.getRelativeMase());
        assertThat(broken.getRelativeWql()).isGreaterThan(full.getRelativeWql());
        assertThat(broken.getOnlyFirstCorrect()).as("windows where the full model's error is lower").isGreaterThan(broken.getOnlyThisCorrect());
        assertThat(broken.getPValue()).isLessThan(0.05);

        canaries.runNow();
        assertThat(MetricsAndHealthTest.get(metricsUri))
                .contains("headgate_canary_forecast_error{arm=\"none\",measure=\"relative_mase\",model=\"series-tsfm\",profile=\"identity\"}")
                .contains("headgate_canary_forecast_error{arm=\"wrecked\",measure=\"relative_wql\",model=\"series-tsfm\",profile=\"" + wrecked + "\"}");
    }

    record Bad(String what, ForecastStart.Builder start, Status.Code code, String field) {
        @Override
        public String toString() {
            return what;
        }
    }

    static Stream<Bad> badStarts() {
        double nan = Double.NaN;
        return Stream.of(
                new Bad("empty context", ForecastStart.newBuilder().setFrequency("daily").setHorizon(7), Status.Code.INVALID_ARGUMENT, "start.context"),
                new Bad("all-NaN context", start(new double[]{nan, nan, nan}), Status.Code.INVALID_ARGUMENT, "start.context"),
                new Bad("infinite value", start(new double[]{1, Double.POSITIVE_INFINITY}), Status.Code.INVALID_ARGUMENT, "start.context[1]"),
                new Bad("horizon 0", start(new double[]{1, 2}).setHorizon(0), Status.Code.INVALID_ARGUMENT, "start.horizon"),
                new Bad("horizon beyond the model's", start(new double[]{1, 2}).setHorizon(65), Status.Code.INVALID_ARGUMENT, "start.horizon"),
                new Bad("unknown frequency", start(new double[]{1, 2}).setFrequency("fortnightly"), Status.Code.INVALID_ARGUMENT, "start.frequency"),
                new Bad("no seasonality", ForecastStart.newBuilder().addContext(1).setHorizon(3), Status.Code.INVALID_ARGUMENT, "start.seasonality"),
                new Bad("season 0", ForecastStart.newBuilder().addContext(1).setHorizon(3).setSeasonLength(0), Status.Code.INVALID_ARGUMENT,
                        "start.season_length"),
                new Bad("unknown level", start(new double[]{1, 2}).addQuantileLevels(0.25), Status.Code.INVALID_ARGUMENT, "start.quantile_levels[0]"),
                new Bad("unknown profile", start(new double[]{1, 2}).addCompare(Steering.newBuilder().setProfile("nope")), Status.Code.NOT_FOUND,
                        "start.compare[0].profile"),
                new Bad("a language model", start(new double[]{1, 2}).setModel("parens-lm"), Status.Code.INVALID_ARGUMENT, "start.model"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badStarts")
    void aBadStartNamesItsField(Bad bad) throws Exception {
        Status status = new Call(bad.start()).status();
        assertThat(status.getCode()).isEqualTo(bad.code());
        assertThat(status.getDescription()).startsWith(bad.field() + ": ");
    }

    @Test
    void anInfiniteObservationFailsTheCallNamingTheValue() throws Exception {
        Call c = new Call(start(new double[]{1, 2, 3, 4, 5, 6}));
        c.next();
        c.next();
        c.observe(1, Double.NEGATIVE_INFINITY);
        Status status = c.status();
        assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(status.getDescription()).startsWith("observe.values[1]: ");
    }
}
