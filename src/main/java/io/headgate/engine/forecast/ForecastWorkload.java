package io.headgate.engine.forecast;

import io.headgate.engine.Batch;
import io.headgate.engine.Kind;
import io.headgate.engine.Stream;
import io.headgate.engine.Workload;
import io.headgate.model.BundleManifest;
import io.headgate.model.forecast.ContextWindow;
import io.headgate.model.forecast.ForecastGraph;
import io.headgate.steer.Steering;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Forecasts of time series, scored live. A stream forecasts from its history when a forecast is
 * due — at the start, then after every {@code refreshEvery} observations — one row per compared
 * profile (its own steering first), all rows of every due stream in one forward pass (the whole
 * context is recomputed: normalisation moves with every observation, and a context of patches is
 * cheap). Between steps it takes observations: each new actual scores every outstanding forecast at
 * its lead, per profile and for seasonal naive on the same steps, and the running errors are emitted.
 * A Steer changes the stream's own profile from the next forecast origin.
 */
public final class ForecastWorkload implements Workload<ForecastState, ForecastMessage, ForecastOutput, ForecastSummary> {

    public static final Kind KIND = new Kind(BundleManifest.FORECAST, new Kind.Phases("admit", "forecast", "recompute"),
            new Kind.OutputMeters("headgate.time.to.first.forecast", "headgate.inter.forecast.event.latency", "headgate.forecast.events",
                    "forecast event"));

    private final ForecastGraph graph;
    private final BundleManifest.Forecast spec;
    private final int slots, maxProfiles;
    private final ForecastMeters meters;
    private final List<ContextWindow> windows = new ArrayList<>();
    private FloatBuffer quantiles;

    /** {@code maxProfiles}: profiles one stream may compare (its own included). */
    public ForecastWorkload(ForecastGraph graph, int slots, int maxProfiles, ForecastMeters meters) {
        BundleManifest m = graph.manifest();
        if (!m.steerable()) throw new IllegalArgumentException("bundle " + m.name() + " has no control inputs");
        this.graph = graph;
        this.spec = graph.spec();
        this.slots = slots;
        this.maxProfiles = maxProfiles;
        this.meters = meters;
    }

    public BundleManifest manifest() {
        return graph.manifest();
    }

    public int maxProfiles() {
        return maxProfiles;
    }

    /** A stream's state for {@link io.headgate.engine.Scheduler#submit}: made on the caller's thread. */
    public ForecastState open(ForecastRequest request) {
        if (request.horizon() > spec.horizon()) throw new IllegalArgumentException("horizon " + request.horizon() + " is beyond the model's " + spec.horizon());
        if (request.season() > spec.contextLength()) {
            throw new IllegalArgumentException("season " + request.season() + " is longer than the " + spec.contextLength() + " values the model reads");
        }
        if (1 + request.compared().size() > maxProfiles) {
            throw new IllegalArgumentException((1 + request.compared().size()) + " profiles; a stream compares at most " + maxProfiles);
        }
        List<Double> modelLevels = spec.quantiles();
        double[] levels = new double[request.levels().length];
        for (int i = 0; i < levels.length; i++) {
            int l = request.levels()[i];
            if (l < 0 || l >= modelLevels.size() || (i > 0 && l <= request.levels()[i - 1])) {
                throw new IllegalArgumentException("levels must be increasing indices into the model's " + modelLevels.size() + " levels");
            }
            levels[i] = modelLevels.get(l);
        }
        int median = modelLevels.indexOf(0.5);
        ContextWindow.of(request.context(), spec); // refuses a context the model cannot read, naming it
        return new ForecastState(request, levels, median >= 0 ? median : modelLevels.size() / 2, spec.contextLength());
    }

    @Override
    public Kind kind() {
        return KIND;
    }

    @Override
    public BundleManifest.Dimensions dimensions() {
        return graph.manifest().dimensions();
    }

    @Override
    public int slots() {
        return slots;
    }

    @Override
    public int maxRows() {
        return slots * maxProfiles;
    }

    @Override
    public int cost(ForecastState state) {
        return 1 + state.request.compared().size();
    }

    @Override
    public void admit(Stream<ForecastState, ForecastOutput, ForecastSummary> stream) {
    }

    /** A forecast is due and the recent history holds an observed value to forecast from. */
    @Override
    public boolean ready(Stream<ForecastState, ForecastOutput, ForecastSummary> stream) {
        ForecastState st = stream.state();
        if (!st.due) return false;
        try {
            st.window = ContextWindow.of(st.history(), spec);
            return true;
        } catch (IllegalArgumentException noObservedValue) {
            return false; // every recent value is missing: wait for one
        }
    }

    @Override
    public void forward(Batch<ForecastState, ForecastOutput, ForecastSummary> batch) throws Exception {
        windows.clear();
        for (var s : batch.streams()) {
            ForecastState st = s.state();
            st.rowSteerings = st.profiles(s.steering());
            st.firstRow = batch.rows();
            for (Steering p : st.rowSteerings) {
                batch.add(s, p.row());
                windows.add(st.window);
            }
        }
        quantiles = graph.forwardWindows(windows, batch.controls());
    }

    /** The stream's forecast from this origin: every profile's rows, denormalised, sorted, cut to the horizon and levels asked for. */
    @Override
    public void collect(Stream<ForecastState, ForecastOutput, ForecastSummary> stream, Batch<ForecastState, ForecastOutput, ForecastSummary> batch) {
        ForecastState st = stream.state();
        int H = spec.horizon(), Q = spec.quantiles().size(), h = st.request.horizon();
        int[] asked = st.request.levels();
        List<ForecastOutput.ProfileForecast> profiles = new ArrayList<>(st.rowSteerings.size());
        double[] step = new double[Q];
        for (int p = 0; p < st.rowSteerings.size(); p++) {
            int base = (st.firstRow + p) * H * Q;
            double[] median = new double[h];
            double[][] q = new double[asked.length][h];
            for (int t = 0; t < h; t++) {
                for (int l = 0; l < Q; l++) step[l] = st.window.denormalize(quantiles.get(base + t * Q + l));
                java.util.Arrays.sort(step); // a quantile head's levels can cross
                median[t] = step[st.medianLevel];
                for (int l = 0; l < asked.length; l++) q[l][t] = step[asked[l]];
            }
            Steering s = st.rowSteerings.get(p);
            profiles.add(new ForecastOutput.ProfileForecast(s.metricLabel(), s.tag(), median, q));
            if (!stream.background()) meters.forecast(s.metricLabel(), stream.arm());
        }
        double[] naive = SeasonalNaive.forecast(st.history(), st.request.season(), h);
        st.outstanding.addLast(new ForecastState.Outstanding(st.seen, profiles, naive));
        st.forecasts++;
        st.due = false;
        st.sinceForecast = 0;
        stream.emitOutput(new ForecastOutput.Issued(st.seen, profiles, naive));
        if (st.request.oneShot()) stream.finish(st.summary());
    }

    /** New actuals score the outstanding forecasts at their leads; Close ends the stream with its scores. */
    @Override
    public void receive(Stream<ForecastState, ForecastOutput, ForecastSummary> stream, ForecastMessage message) {
        ForecastState st = stream.state();
        switch (message) {
            case ForecastMessage.Close c -> stream.finish(st.summary());
            case ForecastMessage.Observe o -> {
                int scored = 0;
                for (double y : o.values()) scored = Math.max(scored, observe(stream, st, y));
                st.observations += o.values().length;
                st.sinceForecast += o.values().length;
                if (st.sinceForecast >= st.request.refreshEvery()) st.due = true;
                if (!stream.background()) meters.observed(stream.steering().metricLabel(), stream.arm(), o.values().length);
                stream.emitOutput(new ForecastOutput.Scored(st.seen - 1, scored, st.scoreList(), st.naiveScore()));
            }
        }
    }

    /** Appends one actual and scores it against every outstanding forecast covering it; returns how many did. */
    private int observe(Stream<ForecastState, ForecastOutput, ForecastSummary> stream, ForecastState st, double y) {
        long index = st.seen;
        st.append(y);
        int scored = 0;
        for (Iterator<ForecastState.Outstanding> it = st.outstanding.iterator(); it.hasNext(); ) {
            ForecastState.Outstanding f = it.next();
            int lead = (int) (index - f.origin());
            if (lead >= f.naive().length) {
                it.remove();
                continue;
            }
            if (lead < 0) continue;
            scored++;
            double[] actual = {y}, naivePoint = {f.naive()[lead]};
            st.naive.addPointAt(actual, naivePoint, st.levels);
            for (ForecastOutput.ProfileForecast p : f.profiles()) {
                double[][] q = new double[1][st.levels.length];
                for (int l = 0; l < st.levels.length; l++) q[0][l] = p.quantiles()[l][lead];
                ForecastState.Paired sums = st.paired(p.profile());
                sums.model().add(actual, new double[]{p.median()[lead]}, q, st.levels);
                sums.naive().addPointAt(actual, naivePoint, st.levels);
                if (!stream.background() && !Double.isNaN(y)) {
                    meters.scored(p.profile(), stream.arm(), Math.abs(y - p.median()[lead]), Math.abs(y - naivePoint[0]),
                            quantileLoss(y, q[0], st.levels), quantileLoss(y, naivePoint[0], st.levels));
                }
            }
            if (lead == f.naive().length - 1) it.remove(); // fully scored
        }
        return scored;
    }

    /** Mean over the levels of 2 × the pinball loss: the step's share of the weighted quantile loss's numerator. */
    private static double quantileLoss(double y, double[] q, double[] levels) {
        double sum = 0;
        for (int l = 0; l < levels.length; l++) sum += 2 * ForecastMetrics.pinball(y, q[l], levels[l]);
        return sum / levels.length;
    }

    private static double quantileLoss(double y, double point, double[] levels) {
        double sum = 0;
        for (double level : levels) sum += 2 * ForecastMetrics.pinball(y, point, level);
        return sum / levels.length;
    }

    @Override
    public void swap(int a, int b, Stream<ForecastState, ForecastOutput, ForecastSummary> inA, Stream<ForecastState, ForecastOutput, ForecastSummary> inB) {
        // nothing lives in a slot: the history is the stream's own
    }

    @Override
    public void move(int from, int to, Stream<ForecastState, ForecastOutput, ForecastSummary> stream) {
    }

    @Override
    public void release(Stream<ForecastState, ForecastOutput, ForecastSummary> stream, int slot) {
    }

    @Override
    public void close() throws Exception {
        graph.close();
    }
}
