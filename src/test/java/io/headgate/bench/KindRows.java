package io.headgate.bench;

import io.headgate.api.v1.DiffusionStart;
import io.headgate.api.v1.ForecastStart;
import io.headgate.api.v1.Guidance;
import io.headgate.api.v1.HeadGain;
import io.headgate.api.v1.ProfileSpec;
import io.headgate.api.v1.Steering;
import io.headgate.engine.diffusion.Noise;
import io.headgate.engine.diffusion.TimeGrid;
import io.headgate.model.ControlRow;
import io.headgate.model.diffusion.DiffusionGraph;
import io.headgate.testing.DigitsDit;
import io.headgate.testing.GuidedSampler;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The rows of the kinds without a KV cache, through the gateway: the diffusion transformer
 * (digits-dit: steps and images per second, what its three rows cost against one, the gateway
 * against a bare sampling loop) and the forecaster (series-tsfm: forecasts per second, what
 * comparing several profiles per series costs).
 */
final class KindRows {

    static final int STEPS = 20;

    private final Report report;
    private final int pairs;
    private final BenchmarkSuite.Ratios ratios;

    KindRows(Report report, int pairs, BenchmarkSuite.Ratios ratios) {
        this.report = report;
        this.pairs = pairs;
        this.ratios = ratios;
    }

    // ------------------------------------------------------------------ diffusion

    /** One image: the conditional row alone (no CFG, no perturbation, identity controls). */
    static DiffusionStart oneRow(long seed) {
        return DiffusionStart.newBuilder().setModel("digits-dit").setLabel((int) (seed % 10)).setSeed(seed).setSteps(STEPS)
                .setGuidance(Guidance.newBuilder().setCfgScale(1).setPerturbationScale(0))
                .setSteering(Steering.newBuilder().setProfile("identity")).build();
    }

    /** Three rows a step: conditional, unconditional (CFG at w = 2) and perturbed (the shipped pag-l0: PAG on layer 0, s = 0.5). */
    static DiffusionStart threeRows(long seed) {
        return DiffusionStart.newBuilder().setModel("digits-dit").setLabel((int) (seed % 10)).setSeed(seed).setSteps(STEPS)
                .setGuidance(Guidance.newBuilder().setCfgScale(2))
                .setSteering(Steering.newBuilder().setProfile("pag-l0")).build();
    }

    static List<DiffusionStart> images(int n, java.util.function.LongFunction<DiffusionStart> start) {
        List<DiffusionStart> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(start.apply(100 + i));
        return out;
    }

    /** A group of images diffused together, and its steps per second while all of them ran. */
    private record Diffused(List<GatewayProcess.DiffusionRun> runs, double stepsPerSecond) {
    }

    /** Each image's step arrival times. */
    private static List<List<Long>> steps(List<GatewayProcess.DiffusionRun> runs) {
        return runs.stream().map(x -> x.steps).toList();
    }

    /** Time per step of one image, from its steps' arrival times. */
    static double secondsPerStep(GatewayProcess.DiffusionRun run) {
        return (run.steps.getLast() - run.steps.getFirst()) / 1e9 / (run.steps.size() - 1);
    }

    void diffusion(GatewayProcess gw) throws Exception {
        BenchmarkSuite.log("digits-dit: steps and images per second, rows, gateway vs bare loop");
        List<GatewayProcess.DiffusionRun> check = gw.diffuse(List.of(threeRows(1)));
        if (!check.getFirst().rows.stream().allMatch(r -> r == 3)) {
            throw new IllegalStateException("expected 3 rows per step for CFG + pag-l0, got " + check.getFirst().rows);
        }
        for (int n : new int[]{1, 16}) {
            for (boolean three : new boolean[]{false, true}) {
                List<Double> steps = new ArrayList<>(), images = new ArrayList<>();
                for (int r = 0; r < Math.max(3, pairs / 2); r++) {
                    Diffused d = BenchmarkSuite.overlapping(() -> {
                        List<GatewayProcess.DiffusionRun> runs = gw.diffuse(images(n, three ? KindRows::threeRows : KindRows::oneRow));
                        return new Diffused(runs, steadyRate(steps(runs)));
                    });
                    steps.add(d.stepsPerSecond());
                    long begin = d.runs().stream().mapToLong(x -> x.startNanos).min().orElseThrow();
                    long end = d.runs().stream().mapToLong(x -> x.steps.getLast()).max().orElseThrow();
                    images.add(n / ((end - begin) / 1e9));
                }
                report.kind("diffusion, " + n + (n == 1 ? " image" : " images") + " at once, " + (three ? "3 rows (CFG + PAG)" : "1 row"),
                        "digits-dit", Stats.Spread.of(steps).format(" steps/s") + "; " + Stats.Spread.of(images).format(" images/s")
                                + " (" + STEPS + " steps, from request to last step)", "", "");
            }
        }
        for (int n : new int[]{1, 16}) {
            ratios.ratio("diffusion: 3 rows (CFG + PAG) ÷ 1 row, time per step, " + n + (n == 1 ? " image" : " images"), "digits-dit",
                    "(three rows' work)", null,
                    () -> 1 / BenchmarkSuite.overlapping(() -> steadyRate(steps(gw.diffuse(images(n, KindRows::threeRows))))),
                    () -> 1 / BenchmarkSuite.overlapping(() -> steadyRate(steps(gw.diffuse(images(n, KindRows::oneRow))))));
        }
        try (DiffusionGraph graph = DigitsDit.graph()) {
            GuidedSampler sampler = new GuidedSampler(graph);
            var d = graph.manifest().dimensions();
            int size = graph.imageSize();
            GuidedSampler.Setting setting = GuidedSampler.Setting.guided(d, io.headgate.engine.diffusion.Guidance.NONE, ControlRow.identity(d));
            long[] seed = {0};
            Interleaved.Block bare = () -> {
                var plan = GuidedSampler.Plan.constant(3, Noise.gaussian(++seed[0], size), setting);
                long t0 = System.nanoTime();
                sampler.run(List.of(plan), new TimeGrid(STEPS));
                return (System.nanoTime() - t0) / 1e9 / STEPS;
            };
            ratios.ratio("diffusion: gateway ÷ bare sampling loop, time per step, 1 image, 1 row", "digits-dit", "(overhead-bound)", null,
                    () -> secondsPerStep(gw.diffuse(List.of(oneRow(7))).getFirst()), bare);
        }
    }

    // ------------------------------------------------------------------ forecast

    /** A daily-seasonal hourly series: 512 values of history, then what it observes next. */
    static double[] series(long seed, int length) {
        Random random = new Random(seed);
        double[] v = new double[length];
        for (int i = 0; i < length; i++) v[i] = 10 + 3 * Math.sin(2 * Math.PI * i / 24) + 0.5 * random.nextGaussian();
        return v;
    }

    static ForecastStart forecastStart(long seed, int profiles) {
        double[] history = series(seed, 512);
        ForecastStart.Builder b = ForecastStart.newBuilder().setModel("series-tsfm").setSeasonLength(24).setHorizon(24).setRefreshEvery(1)
                .setSteering(Steering.newBuilder().setProfile("identity"));
        for (double x : history) b.addContext(x);
        for (int p = 1; p < profiles; p++) {
            b.addCompare(Steering.newBuilder().setInline(ProfileSpec.newBuilder()
                    .addGains(HeadGain.newBuilder().setLayer(p % 4).setHead(-1).setGain(0.5f + 0.1f * p))));
        }
        return b.build();
    }

    /** Forecasts per second of {@code series} streams, each issuing {@code forecasts} in a closed loop. */
    static double forecastRate(GatewayProcess gw, int series, int profiles, int forecasts) throws Exception {
        List<ForecastStart> starts = new ArrayList<>();
        for (int i = 0; i < series; i++) starts.add(forecastStart(i, profiles));
        return BenchmarkSuite.overlapping(() -> steadyRate(gw.forecastLoops(starts, series(99, 64), forecasts)));
    }

    void forecast(GatewayProcess gw) throws Exception {
        BenchmarkSuite.log("series-tsfm: forecasts per second, profiles per series");
        for (int n : new int[]{1, 64}) {
            int forecasts = n == 1 ? 40 : 10;
            for (int profiles : new int[]{1, 4}) {
                List<Double> rates = new ArrayList<>();
                for (int r = 0; r < Math.max(3, pairs / 2); r++) rates.add(forecastRate(gw, n, profiles, forecasts));
                report.kind("forecast, " + n + (n == 1 ? " series" : " series at once") + ", " + profiles + (profiles == 1 ? " profile" : " profiles") + " each",
                        "series-tsfm", Stats.Spread.of(rates).format(" forecasts/s") + " (horizon 24, a new forecast after every observation)", "", "");
            }
            ratios.ratio("forecast: 4 profiles ÷ 1 per series, time per forecast, " + n + " series", "series-tsfm", "(four rows' work)", null,
                    () -> 1 / forecastRate(gw, n, 4, forecasts), () -> 1 / forecastRate(gw, n, 1, forecasts));
        }
    }

    // ------------------------------------------------------------------ measuring

    /** Outputs per second while every stream is producing: from the last stream's first output to the first stream's last. */
    static double steadyRate(List<List<Long>> arrivals) {
        long from = 0, to = Long.MAX_VALUE;
        for (List<Long> a : arrivals) {
            from = Math.max(from, a.getFirst());
            to = Math.min(to, a.getLast());
        }
        if (to <= from) throw new BenchmarkSuite.NeverAllDecoding();
        long n = 0;
        for (List<Long> a : arrivals) for (long t : a) if (t > from && t <= to) n++;
        return n / ((to - from) / 1e9);
    }
}
