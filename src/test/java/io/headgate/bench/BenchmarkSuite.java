package io.headgate.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.headgate.api.v1.HeadBias;
import io.headgate.api.v1.HeadGain;
import io.headgate.api.v1.HeadMix;
import io.headgate.api.v1.ProfileSpec;
import io.headgate.api.v1.Start;
import io.headgate.api.v1.Steer;
import io.headgate.api.v1.Steering;
import io.headgate.api.v1.TokenIds;
import io.headgate.convert.BundleCache;
import io.headgate.convert.CheckpointConverter;
import io.headgate.testing.Checkpoints;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Headgate's benchmark: every figure is a ratio (or rate) of two things measured side by side in
 * one run, interleaved after warm-up, reported as the median with min–max over repetitions.
 * Writes the results into BENCHMARKS.md between its result markers.
 *
 * <p>Run with {@code bench/run} (see BENCHMARKS.md).
 */
public final class BenchmarkSuite {

    static final Path WORK = Path.of("target", "bench");
    static final String BEGIN = "<!-- results:begin -->", END = "<!-- results:end -->";

    /** One model under test: its checkpoint, the graph variants, the gateway's name for it and its prompt. */
    record Model(String name, Path checkpoint, int promptLength, int tokens, int heads, int layers, int headDim) {
    }

    private final int reps;
    private final String only;
    private final List<String[]> rows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    BenchmarkSuite(int reps, String only) {
        this.reps = reps;
        this.only = only;
    }

    public static void main(String[] args) throws Exception {
        int reps = 5;
        String only = "";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--quick" -> reps = 2;
                case "--only" -> only = args[++i];
                case "--threads" -> BareLoop.threads = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("usage: bench/run [--reps N | --quick] [--only graph|gateway] [--threads N]");
            }
        }
        long t0 = System.nanoTime();
        new BenchmarkSuite(reps, only).run();
        System.out.printf("benchmark finished in %.0f s%n", (System.nanoTime() - t0) / 1e9);
        System.exit(0);
    }

    void run() throws Exception {
        Model parens = new Model("parens-lm", Checkpoints.PARENS_LM, 8, 40, 8, 4, 16);
        Model large = new Model("bench-llama", BenchCheckpoint.write(WORK.resolve("bench-llama")), 16, 64,
                BenchCheckpoint.HEADS, BenchCheckpoint.LAYERS, BenchCheckpoint.DH);
        BundleCache cache = new BundleCache(WORK.resolve("bundles"), new CheckpointConverter(m -> { }));
        if (!only.equals("gateway")) for (Model m : List.of(parens, large)) graphComparisons(m, cache);
        if (!only.equals("graph")) gatewayComparisons(parens, large, cache);
        if (only.isEmpty()) report();
    }

    // ------------------------------------------------------------------ graph level: bare ONNX Runtime loops

    void graphComparisons(Model m, BundleCache cache) throws Exception {
        Path steerable = cache.bundleFor(m.checkpoint(), CheckpointConverter.Options.STEERABLE);
        Path plain = cache.bundleFor(m.checkpoint(), new CheckpointConverter.Options(false, false, 0));
        Path concat = cache.bundleFor(m.checkpoint(), new CheckpointConverter.Options(false, false, 0, true));
        log("%s: bare ONNX Runtime loops", m.name());
        try (BareLoop inPlace1 = new BareLoop(plain, 1); BareLoop concat1 = new BareLoop(concat, 1)) {
            compare("KV cache: in-place ÷ concat (time per step, B=1)", m, "≤ 1 (DESIGN: 0.5)",
                    () -> inPlace1.secondsPerStep(m.promptLength(), m.tokens(), false),
                    () -> concat1.secondsPerStep(m.promptLength(), m.tokens(), false), r -> r <= 1.0);
        }
        for (int rows : new int[]{1, 16}) {
            try (BareLoop steer = new BareLoop(steerable, rows); BareLoop bare = new BareLoop(plain, rows)) {
                compare("identity controls ÷ plain graph (throughput, B=" + rows + ")", m, "≥ 0.97",
                        () -> 1 / steer.secondsPerStep(m.promptLength(), m.tokens(), false),
                        () -> 1 / bare.secondsPerStep(m.promptLength(), m.tokens(), false), r -> r >= 0.97);
                compare("all heads steered ÷ identity controls (throughput, B=" + rows + ")", m, "≥ 0.97",
                        () -> 1 / steer.secondsPerStep(m.promptLength(), m.tokens(), true),
                        () -> 1 / steer.secondsPerStep(m.promptLength(), m.tokens(), false), r -> r >= 0.97);
            }
        }
    }

    // ------------------------------------------------------------------ through the gateway

    static List<String> gatewayProperties(Model parens, Model large, int threads) {
        return List.of(
                "headgate.models.parens-lm.path=" + parens.checkpoint(), "headgate.models.parens-lm.slots=64",
                "headgate.models.bench-llama.path=" + large.checkpoint(), "headgate.models.bench-llama.slots=64",
                "headgate.bundle-cache=" + WORK.resolve("bundles"), "headgate.profiles.dir=" + WORK.resolve("profiles-" + System.nanoTime()),
                "headgate.engine.max-waiting=256", "headgate.engine.intra-op-threads=" + threads,
                // no sampled shadows or canaries: they would add rows to the runs being compared
                "headgate.effect.shadow-fraction=0", "headgate.effect.canary-interval=0s");
    }

    void gatewayComparisons(Model parens, Model large, BundleCache cache) throws Exception {
        log("starting the gateway");
        try (GatewayProcess gw = new GatewayProcess(WORK, gatewayProperties(parens, large, BareLoop.threads))) {
            for (Model m : List.of(parens, large)) {
                Path steerable = cache.bundleFor(m.checkpoint(), CheckpointConverter.Options.STEERABLE);
                gatewayOverhead(gw, m, steerable);
                batching(gw, m);
            }
            scaling(gw, large);
            steeringLatency(gw, large);
            memory(gw, large);
            pytorch(gw, large);
        }
        // with one intra-op thread a model step uses one of the two cores; what a second one buys
        int threads = BareLoop.threads;
        BareLoop.threads = 2 * threads;
        log("starting the gateway with %d intra-op threads", BareLoop.threads);
        try (GatewayProcess gw = new GatewayProcess(WORK, gatewayProperties(parens, large, BareLoop.threads))) {
            Path steerable = cache.bundleFor(large.checkpoint(), CheckpointConverter.Options.STEERABLE);
            Model m = new Model(large.name() + " (" + BareLoop.threads + " threads)", large.checkpoint(), large.promptLength(),
                    large.tokens(), large.heads(), large.layers(), large.headDim());
            try (BareLoop bare = new BareLoop(steerable, 1)) {
                compare("gateway (gRPC, 1 stream) ÷ bare loop, time per token", m, "≤ 1.10",
                        () -> perToken(gw, start(large, large.tokens(), identity()).build()),
                        () -> bare.secondsPerStep(large.promptLength(), large.tokens(), false), r -> r <= 1.10);
            }
            compare("16 streams ÷ 1 stream (aggregate throughput)", m, "≥ 5",
                    () -> tokensPerSecond(gw, streams(large, 16, i -> identity())),
                    () -> tokensPerSecond(gw, streams(large, 1, i -> identity())), r -> r >= 5);
        } finally {
            BareLoop.threads = threads;
        }
    }

    void gatewayOverhead(GatewayProcess gw, Model m, Path steerable) throws Exception {
        log("%s: gateway vs bare loop", m.name());
        try (BareLoop bare = new BareLoop(steerable, 1)) {
            compare("gateway (gRPC, 1 stream) ÷ bare loop, time per token", m, m.name().equals("bench-llama") ? "≤ 1.10" : "(overhead-bound)",
                    () -> perToken(gw, start(m, m.tokens(), identity()).build()),
                    () -> bare.secondsPerStep(m.promptLength(), m.tokens(), false),
                    r -> !m.name().equals("bench-llama") || r <= 1.10);
            breakdown(gw, m, bare);
        }
    }

    /**
     * Where a token's time goes with one stream: the graph alone (bare loop), the engine's step
     * around it (batch assembly, sampling, detokenizing, emitting: the gateway's own decode-step
     * histogram) and the rest (scheduling turns, gRPC delivery to the client).
     */
    void breakdown(GatewayProcess gw, Model m, BareLoop bare) throws Exception {
        List<Double> graph = new ArrayList<>(), engine = new ArrayList<>(), delivery = new ArrayList<>();
        for (int r = 0; r < reps; r++) {
            double[] before = decodeStepSumCount(gw, m.name());
            double perToken = perToken(gw, start(m, m.tokens(), identity()).build());
            double[] after = decodeStepSumCount(gw, m.name());
            double step = (after[0] - before[0]) / (after[1] - before[1]);
            double bareStep = bare.secondsPerStep(m.promptLength(), m.tokens(), false);
            graph.add(bareStep / perToken);
            engine.add(Math.max(0, step - bareStep) / perToken);
            delivery.add(Math.max(0, perToken - step) / perToken);
        }
        rows.add(new String[]{"breakdown of a token's time, 1 stream", m.name(), String.format(
                "graph %.0f%%, engine step around it %.0f%%, scheduling + gRPC delivery %.0f%% (medians)",
                100 * Stats.Spread.of(graph).median(), 100 * Stats.Spread.of(engine).median(), 100 * Stats.Spread.of(delivery).median()), "", ""});
    }

    /** The gateway's decode-step histogram: [sum of seconds, count]. */
    static double[] decodeStepSumCount(GatewayProcess gw, String model) throws Exception {
        double sum = 0, count = 0;
        String labels = "{kind=\"causal-lm\",model=\"" + model + "\",phase=\"decode\"}";
        for (String line : gw.get("/q/metrics").split("\n")) {
            if (line.startsWith("headgate_step_duration_seconds_sum" + labels)) sum = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            if (line.startsWith("headgate_step_duration_seconds_count" + labels)) count = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
        return new double[]{sum, count};
    }

    void batching(GatewayProcess gw, Model m) throws Exception {
        log("%s: steering and batching through the gateway", m.name());
        compare("all heads steered ÷ identity, 1 stream (throughput)", m, "≥ 0.97",
                () -> 1 / perToken(gw, start(m, m.tokens(), allHeads(m, 0)).build()),
                () -> 1 / perToken(gw, start(m, m.tokens(), identity()).build()), r -> r >= 0.97);
        compare("all heads steered ÷ identity, 16 streams (throughput)", m, "≥ 0.97",
                () -> tokensPerSecond(gw, streams(m, 16, i -> allHeads(m, 0))),
                () -> tokensPerSecond(gw, streams(m, 16, i -> identity())), r -> r >= 0.97);
        compare("16 distinct profiles ÷ 16 sharing one (throughput)", m, "≥ 0.95",
                () -> tokensPerSecond(gw, streams(m, 16, i -> allHeads(m, i))),
                () -> tokensPerSecond(gw, streams(m, 16, i -> allHeads(m, 0))), r -> r >= 0.95);
        compare("16 streams ÷ 1 stream (aggregate throughput)", m, "≥ 5",
                () -> tokensPerSecond(gw, streams(m, 16, i -> identity())),
                () -> tokensPerSecond(gw, streams(m, 1, i -> identity())), r -> r >= 5);
        compare("16 streams, 1 with a shadow baseline ÷ none (throughput)", m, "(one extra row)",
                () -> tokensPerSecond(gw, withShadow(streams(m, 16, i -> allHeads(m, 0)), 1)),
                () -> tokensPerSecond(gw, streams(m, 16, i -> allHeads(m, 0))), r -> true);
    }

    /** The first {@code n} streams ask for a shadow baseline. */
    static List<Start> withShadow(List<Start> starts, int n) {
        List<Start> out = new ArrayList<>();
        for (int i = 0; i < starts.size(); i++) out.add(i < n ? starts.get(i).toBuilder().setShadow(true).build() : starts.get(i));
        return out;
    }

    void scaling(GatewayProcess gw, Model m) throws Exception {
        log("%s: scaling", m.name());
        double base = 0;
        for (int n : new int[]{1, 4, 16, 64}) {
            List<Double> rates = new ArrayList<>(), gaps = new ArrayList<>();
            for (int r = 0; r < reps; r++) {
                List<GatewayProcess.Run> runs = gw.runAll(streams(m, n, i -> identity()), null);
                rates.add(rate(runs));
                for (GatewayProcess.Run run : runs) {
                    for (int i = 1; i < run.arrivals.size(); i++) gaps.add((run.arrivals.get(i) - run.arrivals.get(i - 1)) / 1e6);
                }
            }
            Stats.Spread rate = Stats.Spread.of(rates);
            if (n == 1) base = rate.median();
            List<Double> sorted = Stats.sorted(gaps);
            rows.add(new String[]{"scaling: " + n + " streams", m.name(),
                    String.format("%s tokens/s = %.2f× 1 stream; inter-token p50 %.2f ms, p99 %.2f ms", rate.format(""),
                            rate.median() / base, Stats.percentile(sorted, 50), Stats.percentile(sorted, 99)), "", ""});
        }
    }

    void steeringLatency(GatewayProcess gw, Model m) throws Exception {
        log("%s: steering latency", m.name());
        for (int window : new int[]{0, 4, 1}) {
            List<Double> lags = new ArrayList<>();
            for (int r = 0; r < reps; r++) {
                int switchAfter = 20;
                GatewayProcess.Run run = gw.start(start(m, 200, identity()).setCreditWindow(window).build(), (index, rn) -> {
                    if (index == switchAfter) GatewayProcess.steer(rn, Steer.newBuilder().setSteering(allHeads(m, 1)).build());
                    if (window > 0) GatewayProcess.ack(rn, index + 1);
                });
                run.done.get(5, TimeUnit.MINUTES);
                int first = run.steering.indexOf("inline@1");
                lags.add((double) (first - (switchAfter + 1)));
            }
            Stats.Spread lag = Stats.Spread.of(lags);
            rows.add(new String[]{"steering latency, " + (window == 0 ? "no credit window" : "credit window " + window), m.name(),
                    lag.format(" tokens") + " computed after the client read the switch point", window == 1 ? "0 (within 1 step)" : "",
                    window == 1 ? (lag.max() <= 0 ? "yes" : "no") : ""});
        }
    }

    void memory(GatewayProcess gw, Model m) throws Exception {
        log("%s: memory per active stream", m.name());
        gw.collectGarbage();
        long rss0 = gw.residentBytes();
        double heap0 = gw.heapBytes();
        int n = 64;
        List<GatewayProcess.Run> held = new ArrayList<>();
        java.util.concurrent.CountDownLatch first = new java.util.concurrent.CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            held.add(gw.start(start(m, 100, identity()).setCreditWindow(1).build(), (index, rn) -> first.countDown()));
        }
        first.await(2, TimeUnit.MINUTES); // every stream holds its slot, paused for credit
        gw.collectGarbage();
        long rss1 = gw.residentBytes();
        double heap1 = gw.heapBytes();
        for (GatewayProcess.Run r : held) r.requests.onError(new RuntimeException("benchmark done"));
        long slotBytes = 2L * BenchCheckpoint.LAYERS * BenchCheckpoint.KV * BenchCheckpoint.MAX * BenchCheckpoint.DH * 4;
        rows.add(new String[]{"memory per active stream (" + n + " paused streams)", m.name(),
                String.format("heap %2$+.1f KiB per stream (RSS %1$+.1f KiB: dominated by the JVM committing and returning heap); the KV cache (%3$.1f MiB per slot) is allocated at load",
                        (rss1 - rss0) / 1024.0 / n, (heap1 - heap0) / 1024.0 / n, slotBytes / 1048576.0), "", ""});
    }

    void pytorch(GatewayProcess gw, Model m) throws Exception {
        Path script = Path.of("bench", "torch_hooks_bench.py");
        Path python = Path.of("/usr/bin/python3");
        if (!Files.isRegularFile(script) || !Files.isExecutable(python)) {
            notes.add("PyTorch comparison skipped: " + script + " or /usr/bin/python3 missing.");
            return;
        }
        log("%s: PyTorch eager with hooks", m.name());
        Process p = new ProcessBuilder(python.toString(), script.toString(), m.checkpoint().toString(), "--tokens", Integer.toString(m.tokens()),
                "--prompt-len", Integer.toString(m.promptLength()), "--reps", Integer.toString(reps), "--threads", "1")
                .redirectError(WORK.resolve("torch.log").toFile()).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            notes.add("PyTorch comparison skipped: the script exited " + p.exitValue() + " (Debian's python3-torch missing?); see target/bench/torch.log.");
            return;
        }
        JsonNode json = new ObjectMapper().readTree(out);
        List<Double> headgate = new ArrayList<>();
        for (int r = 0; r < reps; r++) headgate.add(perToken(gw, start(m, m.tokens(), allHeads(m, 0)).build()));
        double ours = Stats.Spread.of(headgate).median();
        List<Double> ratios = new ArrayList<>();
        json.get("per_token_seconds").get("steered_hooks").forEach(t -> ratios.add(t.asDouble() / ours));
        rows.add(new String[]{"PyTorch " + json.get("torch").asText() + " eager + forward hooks ÷ Headgate gateway, all heads gained, time per token",
                m.name(), Stats.Spread.of(ratios).format("×"), "", ""});
        notes.add("PyTorch ran after the gateway measurements, not interleaved (a separate process); its spread is over its own repetitions against Headgate's median.");
    }

    // ------------------------------------------------------------------ measuring

    interface Measure {
        double get() throws Exception;
    }

    /** Alternates A and B (order flipped every repetition) after one warm-up of each; records A/B. */
    void compare(String what, Model m, String goal, Measure a, Measure b, java.util.function.DoublePredicate met) throws Exception {
        a.get();
        b.get();
        List<Double> ratios = new ArrayList<>();
        for (int r = 0; r < reps; r++) {
            double x, y;
            if (r % 2 == 0) {
                x = a.get();
                y = b.get();
            } else {
                y = b.get();
                x = a.get();
            }
            ratios.add(x / y);
        }
        Stats.Spread s = Stats.Spread.of(ratios);
        rows.add(new String[]{what, m.name(), s.format("×"), goal, met.test(s.median()) ? "yes" : "no"});
        System.out.printf("  %-60s %-12s %s%n", what, m.name(), s.format("×"));
    }

    /** One stream's time per token after the first, from client-side arrival times. */
    double perToken(GatewayProcess gw, Start start) throws Exception {
        GatewayProcess.Run run = gw.runAll(List.of(start), null).getFirst();
        int n = run.arrivals.size();
        return (run.arrivals.get(n - 1) - run.arrivals.getFirst()) / 1e9 / (n - 1);
    }

    double tokensPerSecond(GatewayProcess gw, List<Start> starts) throws Exception {
        return rate(gw.runAll(starts, null));
    }

    static double rate(List<GatewayProcess.Run> runs) {
        long begin = Long.MAX_VALUE, end = 0, tokens = 0;
        for (GatewayProcess.Run r : runs) {
            begin = Math.min(begin, r.startNanos);
            end = Math.max(end, r.arrivals.getLast());
            tokens += r.arrivals.size();
        }
        return tokens / ((end - begin) / 1e9);
    }

    static Start.Builder start(Model m, int tokens, Steering steering) {
        TokenIds.Builder ids = TokenIds.newBuilder();
        for (int i = 0; i < m.promptLength(); i++) ids.addIds(3 + (i * 5) % 17);
        return Start.newBuilder().setModel(m.name()).setTokenIds(ids).setMaxTokens(tokens).setIgnoreEos(true).setSteering(steering);
    }

    static List<Start> streams(Model m, int n, Function<Integer, Steering> steering) {
        List<Start> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(start(m, m.tokens(), steering.apply(i)).build());
        return out;
    }

    static Steering identity() {
        return Steering.newBuilder().setProfile("identity").build();
    }

    /** Every head of every layer off identity in all three controls; {@code variant} makes distinct profiles. */
    static Steering allHeads(Model m, int variant) {
        HeadBias.Builder bias = HeadBias.newBuilder().setLayer(-1).setHead(-1);
        for (int i = 0; i < m.headDim(); i++) bias.addVector(0.01f);
        return Steering.newBuilder().setInline(ProfileSpec.newBuilder()
                .addGains(HeadGain.newBuilder().setLayer(-1).setHead(-1).setGain(1.1f + 0.01f * variant))
                .addBiases(bias)
                .addMixes(HeadMix.newBuilder().setLayer(-1).setHead(-1).setMix(0.1f))).build();
    }

    static void log(String format, Object... args) {
        System.out.printf("[bench] " + format + "%n", args);
    }

    // ------------------------------------------------------------------ report

    void report() throws IOException {
        StringBuilder b = new StringBuilder(BEGIN).append('\n');
        b.append("Run on ").append(LocalDate.now()).append(", ").append(reps).append(" repetitions: ").append(Machine.describe()).append("\n\n");
        b.append("| comparison | model | median (min–max) | goal | met |\n|---|---|---|---|---|\n");
        for (String[] r : rows) b.append("| ").append(String.join(" | ", r)).append(" |\n");
        for (String n : notes) b.append("\n").append(n).append('\n');
        b.append(END);
        System.out.println(b);
        Path file = Path.of("BENCHMARKS.md");
        String doc = Files.exists(file) ? Files.readString(file) : BEGIN + "\n" + END + "\n";
        int s = doc.indexOf(BEGIN), e = doc.indexOf(END);
        if (s < 0 || e < 0) throw new IOException("BENCHMARKS.md lacks the result markers " + BEGIN + " / " + END);
        Files.writeString(file, doc.substring(0, s) + b + doc.substring(e + END.length()));
    }
}
