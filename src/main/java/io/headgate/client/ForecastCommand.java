package io.headgate.client;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.headgate.api.v1.Close;
import io.headgate.api.v1.ForecastEvent;
import io.headgate.api.v1.ForecastFinished;
import io.headgate.api.v1.ForecastIssued;
import io.headgate.api.v1.ForecastRequest;
import io.headgate.api.v1.ForecastScored;
import io.headgate.api.v1.ForecastStart;
import io.headgate.api.v1.ForecastStarted;
import io.headgate.api.v1.ForecasterGrpc;
import io.headgate.api.v1.Observe;
import io.headgate.api.v1.ProfileForecast;
import io.headgate.api.v1.ProfileScore;
import io.headgate.api.v1.Steering;
import io.headgate.client.ClientOptions.UsageException;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * {@code headgate forecast}: one Forecaster.Forecast call on a series read from a CSV column. The first
 * {@code --history} values are the Start's context; the rest are fed back as actuals, {@code --every}
 * values per Observe, each sent once the forecast from the previous origin has arrived, so every origin
 * gets its forecast; the running error is printed as the server scores them, and the final scores at
 * the end (after Close). The last forecast reaches past the data.
 */
final class ForecastCommand {

    static final String USAGE = """
            usage: headgate forecast --csv FILE [--column NAME|N] --horizon H (--frequency F | --season-length N)
                                     [--history N] [--every N] [--model series-tsfm] [--profile REF] [--compare REF]...
                                     [--out FILE.csv]

            Forecasts a series from a CSV column and feeds the values after the history back as actuals, printing
            each forecast (median and the outermost quantiles) and every profile's running error against seasonal naive.
              --csv FILE           the series: one value per row, oldest first (a header row is allowed; empty, NA
                                   or NaN cells are missing values)
              --column NAME|N      the column, by header name or number from 1                 default: the last
              --history N          values the first forecast sees                               default: all but H
              --horizon H          steps per forecast (1 to the model's horizon)
              --frequency F        half-hourly, hourly, daily, business-daily, weekly, monthly, quarterly, yearly
              --season-length N    or the season in steps (seasonal naive's, MASE's)
              --every N            actuals per Observe; a new forecast after each                default 1
              --profile REF        the stream's steering                                        default identity
              --compare REF        another profile forecast side by side (repeatable; identity always is)
              --out FILE.csv       every forecast as rows: origin,step,index,profile,median,low,high
              --target HOST:PORT   the gateway                                                  default localhost:8080""";

    private static final Set<String> OPTIONS = Set.of("--target", "--model", "--csv", "--column", "--history", "--horizon", "--frequency",
            "--season-length", "--every", "--profile", "--compare", "--out");

    private ForecastCommand() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err) throws UsageException, IOException {
        CommandLine c = CommandLine.parse(args, OPTIONS, Set.of());
        if (!c.positional().isEmpty()) throw new UsageException("unexpected argument '" + c.positional().getFirst() + "'");
        double[] series = Csv.column(Path.of(c.required("--csv")), c.option("--column", null));
        int horizon = c.integer("--horizon", 0, 1, Integer.MAX_VALUE);
        if (horizon == 0) throw new UsageException("--horizon is required");
        int history = c.integer("--history", Math.max(1, series.length - horizon), 1, series.length);
        int every = c.integer("--every", 1, 1, Integer.MAX_VALUE);
        ForecastStart.Builder start = ForecastStart.newBuilder().setModel(c.option("--model", "series-tsfm")).setHorizon(horizon).setRefreshEvery(every);
        for (int i = 0; i < history; i++) start.addContext(series[i]);
        if (c.has("--frequency") == c.has("--season-length")) throw new UsageException("give --frequency F or --season-length N");
        if (c.has("--frequency")) start.setFrequency(c.required("--frequency"));
        else start.setSeasonLength(c.integer("--season-length", 0, 1, Integer.MAX_VALUE));
        if (c.has("--profile")) start.setSteering(Steering.newBuilder().setProfile(c.required("--profile")));
        for (String ref : c.all("--compare")) start.addCompare(Steering.newBuilder().setProfile(ref));
        double[] actuals = Arrays.copyOfRange(series, history, series.length);

        BufferedWriter csv = c.has("--out") ? Files.newBufferedWriter(Path.of(c.required("--out"))) : null;
        try (Gateway g = new Gateway(AdminCommands.target(c), null)) {
            if (csv != null) csv.write("origin,step,index,profile,median,low,high\n");
            Feed feed = new Feed(actuals, every, out, err, csv);
            ForecasterGrpc.newStub(g.channel()).forecast(feed);
            feed.send(ForecastRequest.newBuilder().setStart(start).build());
            ForecastFinished f = feed.result.join();
            out.printf(Locale.ROOT, "finished: %s, %d actuals, %d forecasts, %.3f s%n", f.getReason(), f.getObservations(), f.getForecasts(), f.getTotalSeconds());
            printScores(f.getProfilesList(), f.getSeasonalNaive(), out);
            return HeadgateClient.EXIT_FINISHED;
        } catch (CompletionException e) {
            if (e.getCause() instanceof io.grpc.StatusRuntimeException s) throw s;
            if (e.getCause() instanceof UncheckedIOException io) throw io.getCause();
            throw Status.fromThrowable(e.getCause()).asRuntimeException();
        } finally {
            if (csv != null) csv.close();
        }
    }

    static void printScores(List<ProfileScore> profiles, ProfileScore naive, PrintStream out) {
        out.printf("%-20s %6s %10s %8s %8s %8s %9s %8s %8s%n", "PROFILE", "STEPS", "MAE", "MASE", "sMAPE%", "WQL", "COVERAGE", "relMASE", "relWQL");
        List<ProfileScore> rows = new ArrayList<>(profiles);
        rows.add(naive.toBuilder().setProfile("seasonal-naive").build());
        for (ProfileScore s : rows) {
            out.printf(Locale.ROOT, "%-20s %6d %10.4g %8.3f %8.2f %8.4f %9.3f %8.3f %8.3f%n", s.getProfile(), s.getSteps(), s.getMae(), s.getMase(),
                    s.getSmape(), s.getWql(), s.getCoverage(), s.getRelativeMase(), s.getRelativeWql());
        }
    }

    /** The call: prints forecasts and scores; sends the next actuals when a forecast arrives, Close after the last. */
    private static final class Feed implements ClientResponseObserver<ForecastRequest, ForecastEvent> {
        final CompletableFuture<ForecastFinished> result = new CompletableFuture<>();
        private final double[] actuals;
        private final int every;
        private final PrintStream out, err;
        private final BufferedWriter csv;
        private ClientCallStreamObserver<ForecastRequest> requests;
        private int sent;
        private boolean closed;

        Feed(double[] actuals, int every, PrintStream out, PrintStream err, BufferedWriter csv) {
            this.actuals = actuals;
            this.every = every;
            this.out = out;
            this.err = err;
            this.csv = csv;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<ForecastRequest> requests) {
            this.requests = requests;
        }

        synchronized void send(ForecastRequest r) {
            if (!closed) requests.onNext(r);
        }

        @Override
        public void onNext(ForecastEvent e) {
            switch (e.getKindCase()) {
                case STARTED -> started(e.getStarted());
                case FORECAST -> {
                    issued(e.getForecast());
                    feed();
                }
                case SCORED -> scored(e.getScored());
                case STEERING_APPLIED -> err.println("→ now " + EventPrinter.tag(e.getSteeringApplied().getSteering()) + " from event "
                        + e.getSteeringApplied().getFromIndex());
                case STEERING_REJECTED -> err.println("✗ steering rejected: " + e.getSteeringRejected().getField() + ": " + e.getSteeringRejected().getReason());
                case FINISHED -> {
                    result.complete(e.getFinished());
                    synchronized (this) {
                        if (!closed) requests.onCompleted();
                        closed = true;
                    }
                }
                case KIND_NOT_SET -> {
                }
            }
        }

        /** The next actuals after a forecast: a full batch (another forecast follows it), else what is left and Close. */
        private void feed() {
            int left = actuals.length - sent;
            if (left >= every) {
                observe(every);
            } else {
                if (left > 0) observe(left);
                send(ForecastRequest.newBuilder().setClose(Close.getDefaultInstance()).build());
            }
        }

        private void observe(int n) {
            Observe.Builder o = Observe.newBuilder();
            for (int i = 0; i < n; i++) o.addValues(actuals[sent + i]);
            sent += n;
            send(ForecastRequest.newBuilder().setObserve(o).build());
        }

        private void started(ForecastStarted s) {
            err.printf(Locale.ROOT, "started: stream %s; history %d values read%s, season %d, horizon %d, levels %s; profiles %s; %d actuals to send%n",
                    s.getStarted().getStreamId(), s.getContextUsed(), s.getContextDropped() > 0 ? " (" + s.getContextDropped() + " older cut)" : "",
                    s.getSeasonLength(), s.getHorizon(), s.getQuantileLevelsList(), String.join(", ", s.getProfilesList()), actuals.length);
        }

        private void issued(ForecastIssued f) {
            for (ProfileForecast p : f.getProfilesList()) {
                int h = p.getMedianCount();
                var low = p.getQuantilesCount() > 0 ? p.getQuantiles(0) : null;
                var high = p.getQuantilesCount() > 0 ? p.getQuantiles(p.getQuantilesCount() - 1) : null;
                StringBuilder medians = new StringBuilder();
                for (int i = 0; i < Math.min(h, 6); i++) medians.append(String.format(Locale.ROOT, " %.4g", p.getMedian(i)));
                if (h > 6) medians.append(" …");
                out.printf(Locale.ROOT, "forecast from %d  %-18s%s%s%n", f.getOrigin(), EventPrinter.tag(p.getSteering()), medians,
                        low == null ? "" : String.format(Locale.ROOT, "   %.0f–%.0f%% at +1: %.4g–%.4g", 100 * low.getLevel(), 100 * high.getLevel(),
                                low.getValues(0), high.getValues(0)));
                if (csv != null) {
                    try {
                        for (int i = 0; i < h; i++) {
                            csv.write(String.format(Locale.ROOT, "%d,%d,%d,%s,%s,%s,%s%n", f.getOrigin(), i + 1, f.getOrigin() + i, p.getProfile(), p.getMedian(i),
                                    low == null ? "" : low.getValues(i), high == null ? "" : high.getValues(i)));
                        }
                    } catch (IOException ex) {
                        result.completeExceptionally(new UncheckedIOException(ex));
                    }
                }
            }
        }

        private void scored(ForecastScored s) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "actual %d scored (%d forecasts):", s.getIndex(), s.getForecastsScored()));
            for (ProfileScore p : s.getProfilesList()) {
                line.append(String.format(Locale.ROOT, "  %s MASE %.3f (%.3f of naive)", p.getProfile(), p.getMase(), p.getRelativeMase()));
            }
            out.println(line);
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onCompleted() {
            result.completeExceptionally(Status.INTERNAL.withDescription("the server ended the call without ForecastFinished").asRuntimeException());
        }
    }
}
