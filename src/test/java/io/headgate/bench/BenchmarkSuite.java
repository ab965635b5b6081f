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

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.DoublePredicate;
import java.util.function.Function;

/**
 * Headgate's benchmark. Every ratio is measured in short blocks of its two sides alternating
 * ({@link Interleaved}) and reported as the median of the pairs' ratios with the interquartile
 * range; with {@code --loaded} every ratio is measured again at once with one core kept busy, and
 * the two are reported side by side. Writes its results into BENCHMARKS.md between the result
 * markers (a partial run, {@code --only}, writes target/bench/results.md instead).
 *
 * <p>Run with {@code bench/run} (see BENCHMARKS.md).
 */
public final class BenchmarkSuite {

    static final Path WORK = Path.of("target", "bench");
    static final Set<String> SECTIONS = Set.of("graph", "gateway", "tokens", "arrivals", "kinds", "engines", "threads");

    /**
     * A language model under test: its checkpoint, the prompt of the ratio rows, and the tokens of
     * one measured block (one stream's generation, or that many bare decode steps).
     */
    record Model(String name, Path checkpoint, int promptLength, int tokens, int heads, int layers, int headDim, int vocab) {
        boolean large() {
            return name.equals("bench-llama");
        }
    }

    /** A packaged gateway: this checkout's ({@code current}), or another commit's, to compare with. */
    record Engine(String label, Path app, boolean current) {
    }

    private final int pairs;
    private final boolean quick;
    private final boolean loaded;
    private final boolean publish;
    private final Set<String> only;
    private final List<Engine> others;
    private final Report report = new Report();
    private final Engine current = new Engine("this checkout", GatewayProcess.APP, true);

    BenchmarkSuite(int pairs, boolean quick, boolean loaded, Set<String> only, List<Engine> others, boolean publish) {
        this.publish = publish;
        this.pairs = pairs;
        this.quick = quick;
        this.loaded = loaded;
        this.only = only;
        this.others = others;
    }

    public static void main(String[] args) throws Exception {
        int pairs = 24;
        boolean quick = false, loaded = false;
        Set<String> only = new HashSet<>();
        List<Engine> others = new ArrayList<>();
        String usage = "usage: bench/run [--pairs N | --quick] [--loaded] [--only " + String.join("|", SECTIONS)
                + "]... [--publish] [--threads N] [--chunk TOKENS] [--share MULTIPLE] [--load FRACTION] [--warm-up SECONDS] [--engine LABEL=QUARKUS_APP_DIR]...";
        boolean publish = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--pairs" -> pairs = Integer.parseInt(args[++i]);
                case "--quick" -> {
                    pairs = 8;
                    quick = true;
                }
                case "--loaded" -> loaded = true;
                case "--publish" -> publish = true; // a partial run writes BENCHMARKS.md too
                case "--only" -> {
                    String s = args[++i];
                    if (!SECTIONS.contains(s)) throw new IllegalArgumentException("--only " + s + ": not a section; " + usage);
                    only.add(s);
                }
                case "--threads" -> BareLoop.threads = Integer.parseInt(args[++i]);
                case "--chunk" -> chunk = Integer.parseInt(args[++i]);
                case "--share" -> share = Double.parseDouble(args[++i]);
                case "--load" -> {
                    load = Double.parseDouble(args[++i]);
                    if (!(load > 0)) throw new IllegalArgumentException("--load " + args[i] + ": need a fraction > 0 of the closed loop's rate");
                }
                case "--warm-up" -> warmUpSeconds = Double.parseDouble(args[++i]);
                case "--engine" -> {
                    String[] e = args[++i].split("=", 2);
                    if (e.length != 2 || !Files.isRegularFile(Path.of(e[1], "quarkus-run.jar"))) {
                        throw new IllegalArgumentException("--engine " + args[i] + ": expected LABEL=DIR with DIR/quarkus-run.jar");
                    }
                    others.add(new Engine(e[0], Path.of(e[1]), false));
                }
                default -> throw new IllegalArgumentException(usage);
            }
        }
        long t0 = System.nanoTime();
        BenchmarkSuite suite = new BenchmarkSuite(pairs, quick, loaded, only, others, publish);
        suite.report.command("bench/run" + (args.length == 0 ? "" : " " + String.join(" ", args)));
        suite.run();
        System.out.printf("benchmark finished in %.0f s%n", (System.nanoTime() - t0) / 1e9);
        System.exit(0);
    }

    static Model parens() {
        return new Model("parens-lm", Checkpoints.PARENS_LM, 8, 40, 8, 4, 16, 24);
    }

    /** The benchmark Llama, written on first use. */
    static Model large() throws Exception {
        return new Model("bench-llama", BenchCheckpoint.write(WORK.resolve("bench-llama")), 16, 32,
                BenchCheckpoint.HEADS, BenchCheckpoint.LAYERS, BenchCheckpoint.DH, BenchCheckpoint.VOCAB);
    }

    private boolean runs(String section) {
        return only.isEmpty() || only.contains(section);
    }

    void run() throws Exception {
        Model parens = parens(), large = large();
        BundleCache cache = new BundleCache(WORK.resolve("bundles"), new CheckpointConverter(m -> { }));
        section("graph", () -> {
            for (Model m : List.of(parens, large)) graphComparisons(m, cache);
        });
        if (runs("gateway") || runs("tokens") || runs("arrivals") || runs("kinds") || runs("engines")) {
            try (GatewayProcess gw = gateway(current, parens, large)) {
                section("gateway", () -> {
                    for (Model m : List.of(parens, large)) lmGateway(gw, current, m, cache);
                    bursts(gw, large);
                    steeringLatency(gw, large);
                    memory(gw, large);
                    pytorch(gw, large);
                });
                if (!runs("gateway")) section("tokens", () -> {
                    for (Model m : List.of(parens, large)) tokensAgainstBare(gw, current, m, cache);
                    for (Engine e : others) otherEngineTokens(gw, e, parens, large, cache);
                });
                section("arrivals", () -> {
                    for (Model m : List.of(large, parens)) for (int n : new int[]{16, 64}) arrivals(gw, m, n);
                });
                section("kinds", () -> {
                    new KindRows(report, pairs, this::ratio).diffusion(gw);
                    new KindRows(report, pairs, this::ratio).forecast(gw);
                });
                section("engines", () -> {
                    for (Engine e : others) otherEngine(gw, e, parens, large, cache);
                });
            }
        }
        section("threads", () -> twoThreads(parens, large, cache));
        String block = report.markdown(pairs, loaded);
        System.out.println(block);
        if (only.isEmpty() || publish) {
            Report.write(Path.of("BENCHMARKS.md"), block);
        } else {
            Files.writeString(WORK.resolve("results.md"), block + "\n");
            System.out.println("partial run: written to " + WORK.resolve("results.md"));
        }
    }

    interface Section {
        void run() throws Exception;
    }

    /**
     * Runs a section when it was asked for. One that fails stops there, says so in the results and
     * in the log, and the run goes on: the rows measured before it and the other sections are kept.
     */
    private void section(String name, Section body) {
        if (!runs(name)) return;
        try {
            body.run();
        } catch (Exception e) {
            log("section %s stopped: %s", name, e);
            e.printStackTrace(System.out);
            report.note("The " + name + " section stopped early (" + e + "); its remaining rows are missing from this run.");
        }
    }

    // ------------------------------------------------------------------ graph level: bare ONNX Runtime loops

    void graphComparisons(Model m, BundleCache cache) throws Exception {
        Path steerable = cache.bundleFor(m.checkpoint(), CheckpointConverter.Options.STEERABLE);
        Path plain = cache.bundleFor(m.checkpoint(), new CheckpointConverter.Options(false, false, 0));
        Path concat = cache.bundleFor(m.checkpoint(), new CheckpointConverter.Options(false, false, 0, true));
        log("%s: bare ONNX Runtime loops", m.name());
        try (BareLoop inPlace1 = new BareLoop(plain, 1); BareLoop concat1 = new BareLoop(concat, 1);
             var a = inPlace1.decoder(m.promptLength(), m.tokens(), false); var b = concat1.decoder(m.promptLength(), m.tokens(), false)) {
            ratio("KV cache: in-place ÷ concat (time per step, B=1)", m, "≤ 1 (DESIGN: 0.5)", r -> r <= 1.0, a::generation, b::generation);
        }
        for (int rows : new int[]{1, 16}) {
            try (BareLoop steer = new BareLoop(steerable, rows); BareLoop bare = new BareLoop(plain, rows);
                 var identity = steer.decoder(m.promptLength(), m.tokens(), false);
                 var steered = steer.decoder(m.promptLength(), m.tokens(), true);
                 var noControls = bare.decoder(m.promptLength(), m.tokens(), false)) {
                ratio("identity controls ÷ plain graph (throughput, B=" + rows + ")", m, "≥ 0.97", r -> r >= 0.97,
                        () -> 1 / identity.generation(), () -> 1 / noControls.generation());
                ratio("all heads steered ÷ identity controls (throughput, B=" + rows + ")", m, "≥ 0.97", r -> r >= 0.97,
                        () -> 1 / steered.generation(), () -> 1 / identity.generation());
            }
            try (ServedGraph served = new ServedGraph(steerable, plain, rows, m.promptLength(), m.tokens());
                 BareLoop bare = new BareLoop(plain, rows); var noControls = bare.decoder(m.promptLength(), m.tokens(), false)) {
                ratio("identity controls as served (the plain twin for identity passes) ÷ plain graph (throughput, B=" + rows + ")", m,
                        "≥ 0.97", r -> r >= 0.97, () -> 1 / served.generation(), () -> 1 / noControls.generation());
            }
        }
    }

    // ------------------------------------------------------------------ through the gateway

    /**
     * Gateway settings: the language models with room for 96 streams (the arrival rows run past 64
     * in flight), each once more as {@code NAME-whole} reading every prompt in one piece; the demo
     * diffusion and forecast models come from the packaged application.properties. Another
     * commit's gateway ({@code current} false) gets only what it knows.
     */
    static List<String> gatewayProperties(Model parens, Model large, int threads, Engine engine) {
        List<String> p = new ArrayList<>(List.of(
                "headgate.models.parens-lm.path=" + parens.checkpoint(), "headgate.models.parens-lm.slots=96",
                "headgate.models.bench-llama.path=" + large.checkpoint(), "headgate.models.bench-llama.slots=96",
                "headgate.profiles.dir=" + WORK.resolve("profiles-" + System.nanoTime()),
                "headgate.engine.max-waiting=256", "headgate.engine.intra-op-threads=" + threads,
                // no sampled shadows or canaries: they would add rows to the runs being compared
                "headgate.effect.shadow-fraction=0", "headgate.effect.canary-interval=0s"));
        if (engine.current()) {
            p.add("headgate.bundle-cache=" + WORK.resolve("bundles"));
            for (Model m : List.of(parens, large)) {
                String model = "headgate.models." + m.name();
                for (String twin : List.of(CONTROLS, WHOLE_TWIN, TOKENS)) {
                    p.add(model + twin + ".path=" + m.checkpoint());
                    p.add(model + twin + ".slots=96");
                }
                p.add(model + CONTROLS + ".plain-graph-for-identity=off");
                p.add(model + WHOLE_TWIN + ".prefill-tokens-per-step=" + WHOLE);
                p.add(model + WHOLE_TWIN + ".prefill-share=0");
                p.add(model + TOKENS + ".prefill-share=0");
                if (chunk != null) {
                    p.add(model + ".prefill-tokens-per-step=" + chunk);
                    p.add(model + TOKENS + ".prefill-tokens-per-step=" + chunk);
                }
                if (share != null) p.add(model + ".prefill-share=" + share);
            }
            p.add("headgate.models.series-tsfm.slots=64");
        } else {
            // another commit's converter may write other graphs: a cache of its own
            p.add("headgate.bundle-cache=" + WORK.resolve("bundles-" + engine.label().replaceAll("[^A-Za-z0-9]+", "-")));
        }
        return p;
    }

    /** {@code --warm-up}: seconds of traffic a gateway gets after it starts, before anything is measured on it. */
    static double warmUpSeconds = 30;

    /**
     * A gateway started and warmed up. Its per-token path (scheduler, delivery, gRPC) is compiled by
     * the JIT only after thousands of tokens: measured cold, parens-lm's tokens cost several times
     * what they cost once it is warm, and a ratio taken in the first seconds measures the compiler.
     * Each engine gets the same traffic: both language models, one stream and sixteen, back to back.
     */
    GatewayProcess gateway(Engine engine, Model parens, Model large) throws Exception {
        log("starting the gateway of %s", engine.label());
        GatewayProcess gw = new GatewayProcess(WORK, engine.app(), gatewayProperties(parens, large, BareLoop.threads, engine), List.of());
        try {
            warmUp(gw, parens, large);
            return gw;
        } catch (Exception | Error e) {
            gw.close();
            throw e;
        }
    }

    private static void warmUp(GatewayProcess gw, Model parens, Model large) throws Exception {
        if (warmUpSeconds <= 0) return;
        long t0 = System.nanoTime();
        // the small model's fast tokens pass through the per-token path most often: most of the time is its
        double[] firstAndLast = warm(gw, parens, 1, 0.5 * warmUpSeconds);
        warm(gw, parens, 16, 0.2 * warmUpSeconds);
        warm(gw, large, 1, 0.15 * warmUpSeconds);
        warm(gw, large, 16, 0.15 * warmUpSeconds);
        log("warmed up for %.0f s: %s, 1 stream, %.1f µs per token in the first run, %.1f µs in the last", (System.nanoTime() - t0) / 1e9,
                parens.name(), 1e6 * firstAndLast[0], 1e6 * firstAndLast[1]);
    }

    /** Runs {@code n} streams of {@code m} back to back for {@code seconds}; the first and last runs' time per token (of the first stream). */
    private static double[] warm(GatewayProcess gw, Model m, int n, double seconds) throws Exception {
        return Interleaved.warm(() -> {
            GatewayProcess.Run r = gw.runAll(streams(m, n, i -> identity()), null).getFirst();
            return TokenTimes.of(r.startNanos, r.arrivals).decode();
        }, seconds);
    }

    /** The suffix of each language model's twin that runs every step on the steerable graph, identity or not. */
    static final String CONTROLS = "-controls";

    /** {@code --chunk}: the prefill budget of this checkout's language models (not their {@code -whole} twins); null: the gateway's default. */
    static Integer chunk;

    /** {@code --share}: the prefill share of this checkout's language models (their {@link #TOKENS} twins have none); null: the gateway's default. */
    static Double share;

    /**
     * {@code --load}: the arrival rate of the staggered rows as a fraction of the rate a closed loop of
     * n streams sustains. At 1.0 the server is offered all it can do, a queue with no steady state:
     * streams pile up for as long as the run lasts, and every latency percentile grows with the run.
     */
    static double load = 0.8;

    /** The suffix of each language model's twin that reads prompts within the token budget alone (no prefill share). */
    static final String TOKENS = "-tokens";

    /** The suffix of each language model's twin that reads every prompt in one pass. */
    static final String WHOLE_TWIN = "-whole";

    /** The prefill budget of the {@code -whole} models: larger than any prompt, so each is read in one pass. */
    static final int WHOLE = 4096;

    /**
     * The language-model ratios through one gateway: per token against the bare loop (with where
     * the time goes), steering and batching. For this checkout they go into the main table (and are
     * measured under load too with {@code --loaded}); every engine's go into the side-by-side table.
     */
    void lmGateway(GatewayProcess gw, Engine engine, Model m, BundleCache cache) throws Exception {
        tokensAgainstBare(gw, engine, m, cache);
        log("%s through %s: steering, batching", m.name(), engine.label());
        engineRatio(engine, "all heads steered ÷ identity, 1 stream (throughput)", m, "≥ 0.97", r -> r >= 0.97,
                () -> 1 / perToken(gw, start(m, allHeads(m, 0)).build()),
                () -> 1 / perToken(gw, start(m, identity()).build()));
        engineRatio(engine, "all heads steered ÷ identity, 16 streams (throughput)", m, "≥ 0.97", r -> r >= 0.97,
                () -> steadyRate(gw, streams(m, 16, i -> allHeads(m, 0))),
                () -> steadyRate(gw, streams(m, 16, i -> identity())));
        engineRatio(engine, "16 distinct profiles ÷ 16 sharing one (throughput)", m, "≥ 0.95", r -> r >= 0.95,
                () -> steadyRate(gw, streams(m, 16, i -> allHeads(m, i))),
                () -> steadyRate(gw, streams(m, 16, i -> allHeads(m, 0))));
        engineRatio(engine, "16 streams ÷ 1 stream (aggregate throughput)", m, "≥ 5", r -> r >= 5,
                () -> steadyRate(gw, streams(m, 16, i -> identity())),
                () -> steadyRate(gw, streams(m, 1, i -> identity())));
        engineRatio(engine, "16 streams, 1 with a shadow baseline ÷ none (throughput)", m, "(one extra row)", null,
                () -> steadyRate(gw, withShadow(streams(m, 16, i -> allHeads(m, 0)), 1)),
                () -> steadyRate(gw, streams(m, 16, i -> allHeads(m, 0))));
    }

    /** Only the per-token row of {@link #lmGateway} and its breakdown ({@code --only tokens}): a quick before/after check. */
    void tokensAgainstBare(GatewayProcess gw, Engine engine, Model m, BundleCache cache) throws Exception {
        log("%s through %s: gateway vs bare loop per token", m.name(), engine.label());
        try (BareLoop bare = new BareLoop(bareGraph(engine, m, cache), 1); var decoder = bare.decoder(m.promptLength(), m.tokens(), false)) {
            perTokenAgainstBare(gw, engine, m, decoder);
        }
        if (engine.current()) {
            identityGraph(gw, m);
            engineAgainstBare(m, cache);
        }
    }

    /**
     * The graph the gateway runs for one identity stream, which the bare loop runs to compare: this
     * checkout's gateway runs all-identity steps on the plain graph; other commits' the steerable one.
     */
    static Path bareGraph(Engine engine, Model m, BundleCache cache) throws Exception {
        return cache.bundleFor(m.checkpoint(), engine.current() ? new CheckpointConverter.Options(false, false, 0) : CheckpointConverter.Options.STEERABLE);
    }

    /**
     * The engine in this JVM (no gRPC, no delivery threads) ÷ the bare loop per token: what the
     * engine's own work adds; the gateway's row beside it adds delivery and the threads it keeps busy.
     */
    void engineAgainstBare(Model m, BundleCache cache) throws Exception {
        Path plain = bareGraph(current, m, cache), steerable = cache.bundleFor(m.checkpoint(), CheckpointConverter.Options.STEERABLE);
        try (InProcessEngine engine = new InProcessEngine(m.name(), steerable, plain, BareLoop.threads);
             InProcessEngine controlsAlways = new InProcessEngine(m.name(), steerable, null, BareLoop.threads);
             BareLoop bare = new BareLoop(plain, 1); var decoder = bare.decoder(m.promptLength(), m.tokens(), false)) {
            for (InProcessEngine e : List.of(engine, controlsAlways)) Interleaved.warm(() -> e.perToken(prompt(m), m.tokens()), 0.3 * warmUpSeconds);
            Interleaved.warm(decoder::generation, 0.1 * warmUpSeconds);
            ratio("engine in process (no gRPC, 1 stream) ÷ bare loop, time per token", m, "(the engine's own work)", null,
                    () -> engine.perToken(prompt(m), m.tokens()), decoder::generation);
            ratio("engine in process, identity stream: plain graph for identity steps ÷ control ops always (throughput)", m,
                    "(about 1 ÷ the graph's identity ÷ plain)", null, () -> 1 / engine.perToken(prompt(m), m.tokens()), () -> 1 / controlsAlways.perToken(prompt(m), m.tokens()));
        }
    }

    /** An identity stream through the gateway: all-identity steps on the plain graph ÷ on the steerable graph (the {@code -controls} twin). */
    void identityGraph(GatewayProcess gw, Model m) throws Exception {
        String controls = m.name() + CONTROLS;
        ratio("gateway, identity stream: plain graph for identity steps ÷ control ops always (throughput, 1 stream)", m, "(control ops skipped)",
                null, () -> 1 / perToken(gw, start(m, identity()).build()), () -> 1 / perToken(gw, start(m, identity()).setModel(controls).build()));
    }

    /** Another commit's gateway beside this one, per token only: its own row and breakdown, and the two interleaved directly. */
    void otherEngineTokens(GatewayProcess ours, Engine e, Model parens, Model large, BundleCache cache) throws Exception {
        try (GatewayProcess theirs = gateway(e, parens, large)) {
            for (Model m : List.of(parens, large)) {
                tokensAgainstBare(theirs, e, m, cache);
                Stats.Spread token = Stats.Spread.of(Interleaved.ratios(() -> perToken(theirs, start(m, identity()).build()),
                        () -> perToken(ours, start(m, identity()).build()), 1, pairs));
                report.engineDirect(e.label() + " ÷ " + current.label() + ", time per token, 1 stream", m.name(), token.format("×"));
            }
        }
    }

    /**
     * One stream's time per token, two ways: between its first and last tokens (the decode steps, as
     * the goals in BENCHMARKS.md and the PyTorch row take it), and whole, from the request to the last token
     * (the call's setup and the prefill in it). Tokens that reach a starved client late and all at
     * once shorten the first and cannot shorten the second.
     */
    record TokenTimes(double decode, double whole) {
        static TokenTimes of(long startNanos, List<Long> arrivals) {
            int n = arrivals.size();
            return new TokenTimes((arrivals.getLast() - arrivals.getFirst()) / 1e9 / (n - 1), (arrivals.getLast() - startNanos) / 1e9 / n);
        }

        static TokenTimes mean(List<TokenTimes> times) {
            return new TokenTimes(times.stream().mapToDouble(TokenTimes::decode).average().orElseThrow(),
                    times.stream().mapToDouble(TokenTimes::whole).average().orElseThrow());
        }
    }

    /** A stream's token times through the gateway, and its step from the gateway's own step histogram. */
    record GatewayToken(TokenTimes times, StepTimes steps) {
    }

    /**
     * Gateway ÷ bare loop per token, one stream, between first and last tokens and (a second row
     * from the same pairs) over the whole stream; and from the same pairs where a token's time goes:
     * the graph (the bare loop's step), the engine's step beyond it (the gateway's step histogram
     * less the graph), and the rest (scheduling turns, delivery to the client).
     */
    void perTokenAgainstBare(GatewayProcess gw, Engine engine, Model m, BareLoop.Decoder decoder) throws Exception {
        String goal = m.large() ? "≤ 1.10" : "≤ 2";
        DoublePredicate met = m.large() ? r -> r <= 1.10 : r -> r <= 2;
        List<GatewayToken> tokens = new ArrayList<>();
        List<TokenTimes> bareTimes = new ArrayList<>();
        // a block (streams for Interleaved.BLOCK_SECONDS) adds one entry, its means, to its list: entry i of one list pairs with entry i of the other
        Interleaved.Block gateway = () -> {
            StepTimes before = StepTimes.read(gw, m.name());
            TokenTimes t = TokenTimes.mean(Interleaved.block(() -> {
                GatewayProcess.Run run = gw.runAll(List.of(start(m, identity()).build()), null).getFirst();
                return TokenTimes.of(run.startNanos, run.arrivals);
            }));
            tokens.add(new GatewayToken(t, StepTimes.read(gw, m.name()).since(before)));
            return t.decode();
        };
        Interleaved.Block bare = () -> {
            TokenTimes t = TokenTimes.mean(Interleaved.block(decoder::stream));
            bareTimes.add(t);
            return t.decode();
        };
        Interleaved.warm(bare, 0.1 * warmUpSeconds);
        bareTimes.clear();
        // the warm-up pair is entry 0 of both
        Stats.Spread quiet = Stats.Spread.of(Interleaved.ratios(gateway, bare, 1, pairs));
        int quietEnd = tokens.size();
        Stats.Spread underLoad = engine.current() && loaded ? underLoad(gateway, bare) : null;
        String what = "gateway (gRPC, 1 stream) ÷ bare loop, time per token";
        if (engine.current()) {
            report.ratio(new Report.Ratio(what, m.name(), quiet, underLoad, goal, met));
            report.ratio(new Report.Ratio(what + " of a whole stream (from the request: the call's setup and the prefill in it)", m.name(),
                    wholeRatios(tokens, bareTimes, 1, quietEnd), underLoad == null ? null : wholeRatios(tokens, bareTimes, quietEnd + 1, tokens.size()),
                    "(beside the row above)", null));
        }
        report.engine(engine.label(), what, m.name(), quiet);

        List<Double> perToken = new ArrayList<>(), graph = new ArrayList<>(), beyond = new ArrayList<>(), collect = new ArrayList<>(),
                delivery = new ArrayList<>();
        for (int i = 1; i < quietEnd; i++) {
            GatewayToken g = tokens.get(i);
            double t = g.times().decode(), b = bareTimes.get(i).decode(), step = g.steps().perDecodeStep();
            perToken.add(t);
            graph.add(b / t);
            beyond.add(Math.max(0, step - b) / t);
            if (g.steps().splitsCollect()) collect.add(g.steps().collectPerDecodeStep() / t);
            delivery.add(Math.max(0, t - step) / t);
        }
        report.breakdown(engine.label(), m.name(), String.format("%.1f µs", 1e6 * median(perToken)), percent(graph), percent(beyond),
                collect.isEmpty() ? "(not recorded)" : percent(collect), percent(delivery));
    }

    /** Gateway ÷ bare per token of a whole stream, over the pairs {@code from} (inclusive) to {@code to}. */
    private static Stats.Spread wholeRatios(List<GatewayToken> gateway, List<TokenTimes> bare, int from, int to) {
        List<Double> ratios = new ArrayList<>();
        for (int i = from; i < to; i++) ratios.add(gateway.get(i).times().whole() / bare.get(i).whole());
        return Stats.Spread.of(ratios);
    }

    static double median(List<Double> values) {
        return Stats.Spread.of(values).median();
    }

    static String percent(List<Double> shares) {
        return String.format("%.0f%%", 100 * median(shares));
    }

    /**
     * The gateway's step histogram for one model, read from its metrics: the whole step, the
     * decode forward pass and the prefill chunks where the engine records them apart (the engine
     * before the refactor recorded the whole decode step as {@code phase="decode"} and prefill at
     * admission).
     */
    record StepTimes(double stepSum, double stepCount, double decodeSum, double decodeCount, double prefillSum, boolean splitsCollect) {
        static StepTimes read(GatewayProcess gw, String model) throws Exception {
            String metrics = gw.get("/q/metrics");
            double[] step = histogram(metrics, model, "step"), decode = histogram(metrics, model, "decode"), prefill = histogram(metrics, model, "prefill");
            boolean split = step[1] > 0 || !metrics.contains("phase=\"decode\"");
            if (!split) return new StepTimes(decode[0], decode[1], decode[0], decode[1], 0, false); // the old engine: decode is the whole step
            return new StepTimes(step[0], step[1], decode[0], decode[1], prefill[0], true);
        }

        StepTimes since(StepTimes before) {
            return new StepTimes(stepSum - before.stepSum, stepCount - before.stepCount, decodeSum - before.decodeSum,
                    decodeCount - before.decodeCount, prefillSum - before.prefillSum, splitsCollect);
        }

        /** A step's time per decoded token, prefill chunks left out. */
        double perDecodeStep() {
            return (stepSum - prefillSum) / stepCount;
        }

        /** What the step spends after the forward passes (sampling, detokenizing, emitting), per step. */
        double collectPerDecodeStep() {
            return Math.max(0, stepSum - prefillSum - decodeSum) / stepCount;
        }

        /** [sum, count] of {@code headgate_step_duration_seconds} for the model and phase. */
        private static double[] histogram(String metrics, String model, String phase) {
            double sum = 0, count = 0;
            for (String line : metrics.split("\n")) {
                if (!line.contains("model=\"" + model + "\"") || !line.contains("phase=\"" + phase + "\"")) continue;
                double v = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                if (line.startsWith("headgate_step_duration_seconds_sum{")) sum += v;
                if (line.startsWith("headgate_step_duration_seconds_count{")) count += v;
            }
            return new double[]{sum, count};
        }
    }

    /** The first {@code n} streams ask for a shadow baseline. */
    static List<Start> withShadow(List<Start> starts, int n) {
        List<Start> out = new ArrayList<>();
        for (int i = 0; i < starts.size(); i++) out.add(i < n ? starts.get(i).toBuilder().setShadow(true).build() : starts.get(i));
        return out;
    }

    /** Streams that all start at once (as a benchmark client opens them): throughput, inter-token and first-token latency. */
    void bursts(GatewayProcess gw, Model m) throws Exception {
        log("%s: streams starting together", m.name());
        double base = 0;
        for (int n : new int[]{1, 4, 16, 64}) {
            List<Double> rates = new ArrayList<>(), gaps = new ArrayList<>(), first = new ArrayList<>();
            for (int r = 0; r < Math.max(3, pairs / 4); r++) {
                List<GatewayProcess.Run> runs = gw.runAll(streams(m, n, i -> identity()), null);
                rates.add(steadyRate(runs));
                for (GatewayProcess.Run run : runs) {
                    first.add((run.arrivals.getFirst() - run.startNanos) / 1e6);
                    for (int i = 1; i < run.arrivals.size(); i++) gaps.add((run.arrivals.get(i) - run.arrivals.get(i - 1)) / 1e6);
                }
            }
            Stats.Spread rate = Stats.Spread.of(rates);
            if (n == 1) base = rate.median();
            List<Double> g = Stats.sorted(gaps), f = Stats.sorted(first);
            report.rate(n + " streams starting together", m.name(), String.format(
                    "%s tokens/s = %.2f× 1 stream; inter-token p50 %.2f ms, p99 %.2f ms; time to first token p50 %.1f ms, p99 %.1f ms",
                    rate.format(""), rate.median() / base, Stats.percentile(g, 50), Stats.percentile(g, 99), Stats.percentile(f, 50),
                    Stats.percentile(f, 99)));
        }
    }

    /**
     * Streams arriving as a Poisson process at {@link #load} times the rate a closed loop of {@code n}
     * streams sustains on the paced model (the rate that would keep n in flight, by Little's law, if
     * the server kept up at full load), prompts of mixed lengths; the same
     * arrivals are sent to the model reading prompts in chunks paced by the decode pass, to its
     * {@link #TOKENS} twin (chunks by the token budget alone) and to its {@code -whole} twin, in
     * rotating order, and every stream after the ramp is measured.
     */
    void arrivals(GatewayProcess gw, Model m, int n) throws Exception {
        Arrivals.PromptMix mix = m.large() ? new Arrivals.PromptMix(new int[]{16, 128, 384}, new double[]{0.75, 0.2, 0.05})
                : new Arrivals.PromptMix(new int[]{8, 20}, new double[]{0.8, 0.2});
        int tokens = m.large() ? 64 : 40;
        log("%s: %d streams in flight, Poisson arrivals, prompts %s", m.name(), n, mix.describe());
        java.util.Random random = new java.util.Random(n);
        double seconds = closedLoopSeconds(gw, n, 3 * n,
                () -> start(m.name(), Arrivals.prompt(random, mix.draw(random), m.vocab()), tokens));
        double perSecond = load * n / seconds;
        int count = quick ? 3 * n : 5 * n, reps = quick ? 2 : 4;
        List<String> variants = List.of(m.name(), m.name() + TOKENS, m.name() + WHOLE_TWIN);
        List<List<Arrivals.Outcome>> outcomes = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        for (int r = 0; r < reps; r++) {
            Arrivals.Schedule s = Arrivals.poisson(1000L * n + r, perSecond, count, m.name(), mix, tokens, m.vocab());
            for (int k = 0; k < variants.size(); k++) {
                int v = (r + k) % variants.size(); // each variant first in turn
                outcomes.get(v).add(Arrivals.Outcome.of(gw.runAt(s.offsets(), s.onModel(variants.get(v)).starts()), n));
            }
        }
        String budget = chunk != null ? chunk.toString() : engineDefault("prefillTokensPerStep");
        arrivalRow(m, n, "chunked (" + budget + " tokens per step, ≤ " + (share != null ? share : engineDefault("prefillShare"))
                + " × the decode pass)", outcomes.get(0));
        arrivalRow(m, n, "chunked (" + budget + " tokens per step)", outcomes.get(1));
        arrivalRow(m, n, "whole (" + WHOLE + ")", outcomes.get(2));
        decodeOnlyRow(gw, m, n, tokens, reps);
        if (n == 16) {
            report.note(String.format("Staggered arrivals on %s: %d streams per run (the first %d, the ramp, not measured), %d runs per row, "
                            + "%d tokens each, prompts of %s; arrival rate %.1f streams/s, %s × the rate of a closed loop of %d streams in flight taking %.0f ms each; "
                            + "streams in flight: the mean over the measured window, and in brackets the means over its first and last quarters "
                            + "(a queue that grows through the run has no steady state: the offered load is more than the server does).",
                    m.name(), count, n, reps, tokens, mix.describe(), perSecond, Stats.number(load), n, 1e3 * seconds));
        } else {
            report.note(String.format("... and at %d in flight: %d streams per run, arrival rate %.1f streams/s (%s × a closed loop taking %.0f ms per stream).",
                    n, count, perSecond, Stats.number(load), 1e3 * seconds));
        }
    }

    /**
     * The floor under the arrival rows' gaps: {@code n} streams started together, their gaps counted
     * only while all of them decode (no prompt read, no stream admitted or ended in the window), so
     * what spreads them is the host, the step and delivery, not prefill.
     */
    void decodeOnlyRow(GatewayProcess gw, Model m, int n, int tokens, int reps) throws Exception {
        List<Double> gaps = new ArrayList<>(), rates = new ArrayList<>();
        for (int r = 0; r < reps; r++) {
            List<Start> starts = new ArrayList<>();
            for (int i = 0; i < n; i++) starts.add(start(m.name(), prompt(m), tokens));
            List<GatewayProcess.Run> runs = gw.runAll(starts, null);
            long from = 0, to = Long.MAX_VALUE, inWindow = 0;
            for (GatewayProcess.Run run : runs) {
                from = Math.max(from, run.arrivals.getFirst());
                to = Math.min(to, run.arrivals.getLast());
            }
            for (GatewayProcess.Run run : runs) {
                for (int i = 1; i < run.arrivals.size(); i++) {
                    long a = run.arrivals.get(i - 1), b = run.arrivals.get(i);
                    if (a >= from && b <= to) {
                        gaps.add((b - a) / 1e6);
                        inWindow++;
                    }
                }
            }
            if (to > from) rates.add(inWindow / ((to - from) / 1e9));
        }
        if (gaps.isEmpty()) throw new IllegalStateException(m.name() + ": the " + n + " streams never all decoded at once");
        List<Double> g = Stats.sorted(gaps);
        double p50 = Stats.percentile(g, 50), p99 = Stats.percentile(g, 99);
        report.arrivals(m.name(), Integer.toString(n), "none arriving: " + n + " started together, gaps while all decode", Stats.number(median(rates)),
                Integer.toString(n), String.format("%.2f ms", p50), String.format("%.2f ms", p99), String.format("%.2f", p99 / p50), "–", "–",
                p99 <= 3 * p50 ? "yes" : "no");
    }

    /** A default of the gateway's engine configuration (the chunked models keep it), from its declaration. */
    static String engineDefault(String setting) throws Exception {
        return io.headgate.server.HeadgateConfig.Engine.class.getMethod(setting)
                .getAnnotation(io.smallrye.config.WithDefault.class).value();
    }

    private void arrivalRow(Model m, int n, String prefill, List<Arrivals.Outcome> runs) {
        List<Double> rates = new ArrayList<>(), inFlight = new ArrayList<>(), early = new ArrayList<>(), late = new ArrayList<>(),
                gaps = new ArrayList<>(), first = new ArrayList<>();
        for (Arrivals.Outcome o : runs) {
            rates.add(o.tokensPerSecond());
            inFlight.add(o.inFlight());
            early.add(o.inFlightFirstQuarter());
            late.add(o.inFlightLastQuarter());
            gaps.addAll(o.gapsMs());
            first.addAll(o.firstTokenMs());
        }
        List<Double> g = Stats.sorted(gaps), f = Stats.sorted(first);
        double p50 = Stats.percentile(g, 50), p99 = Stats.percentile(g, 99);
        report.arrivals(m.name(), Integer.toString(n), prefill, Stats.number(median(rates)),
                String.format("%s (%s → %s)", Stats.number(median(inFlight)), Stats.number(median(early)), Stats.number(median(late))),
                String.format("%.2f ms", p50), String.format("%.2f ms", p99), String.format("%.2f", p99 / p50),
                String.format("%.1f ms", Stats.percentile(f, 50)), String.format("%.1f ms", Stats.percentile(f, 99)), p99 <= 3 * p50 ? "yes" : "no");
    }

    /**
     * Keeps {@code n} streams in flight (a new one starts when one ends) until {@code total} have run;
     * returns the mean seconds a stream takes, over those started after the first {@code n}.
     */
    static double closedLoopSeconds(GatewayProcess gw, int n, int total, java.util.function.Supplier<Start> next) throws Exception {
        AtomicInteger started = new AtomicInteger();
        CountDownLatch finished = new CountDownLatch(total);
        List<Double> seconds = java.util.Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Void> failed = new CompletableFuture<>();
        Runnable[] launch = new Runnable[1];
        launch[0] = () -> {
            int index = started.getAndIncrement();
            if (index >= total) return;
            Start s;
            synchronized (next) {
                s = next.get();
            }
            GatewayProcess.Run run = gw.start(s, null);
            run.done.whenComplete((v, t) -> {
                if (t != null) failed.completeExceptionally(t);
                if (index >= n) seconds.add((System.nanoTime() - run.startNanos) / 1e9);
                finished.countDown();
                launch[0].run();
            });
        };
        for (int i = 0; i < n; i++) launch[0].run();
        if (!finished.await(10, TimeUnit.MINUTES)) throw new IllegalStateException("closed loop did not finish");
        if (failed.isCompletedExceptionally()) failed.get();
        return median(seconds);
    }

    void steeringLatency(GatewayProcess gw, Model m) throws Exception {
        log("%s: steering latency", m.name());
        for (int window : new int[]{0, 4, 1}) {
            List<Double> lags = new ArrayList<>();
            for (int r = 0; r < Math.max(3, pairs / 4); r++) {
                int switchAfter = 20;
                GatewayProcess.Run run = gw.start(start(m, identity()).setMaxTokens(200).setCreditWindow(window).build(), (index, rn) -> {
                    if (index == switchAfter) GatewayProcess.steer(rn, Steer.newBuilder().setSteering(allHeads(m, 1)).build());
                    if (window > 0) GatewayProcess.ack(rn, index + 1);
                });
                run.done.get(5, TimeUnit.MINUTES);
                int first = run.steering.indexOf("inline@1");
                lags.add((double) (first - (switchAfter + 1)));
            }
            Stats.Spread lag = Stats.Spread.of(lags);
            report.rate("steering latency, " + (window == 0 ? "no credit window" : "credit window " + window), m.name(),
                    String.format("median %.0f, max %.0f tokens computed after the client read the switch point%s", lag.median(), lag.max(),
                            window == 1 ? (lag.max() <= 0 ? " (goal: 0, within one step: met)" : " (goal: 0, within one step: missed)") : ""));
        }
    }

    void memory(GatewayProcess gw, Model m) throws Exception {
        log("%s: memory per active stream", m.name());
        gw.collectGarbage();
        long rss0 = gw.residentBytes();
        double heap0 = gw.heapBytes();
        int n = 64;
        List<GatewayProcess.Run> held = new ArrayList<>();
        CountDownLatch first = new CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            held.add(gw.start(start(m, identity()).setMaxTokens(100).setCreditWindow(1).build(), (index, rn) -> first.countDown()));
        }
        first.await(2, TimeUnit.MINUTES); // every stream holds its slot, paused for credit
        gw.collectGarbage();
        long rss1 = gw.residentBytes();
        double heap1 = gw.heapBytes();
        for (GatewayProcess.Run r : held) r.requests.onError(new RuntimeException("benchmark done"));
        long slotBytes = 2L * BenchCheckpoint.LAYERS * BenchCheckpoint.KV * BenchCheckpoint.MAX * BenchCheckpoint.DH * 4;
        report.rate("memory per active stream (" + n + " paused streams)", m.name(), String.format(
                "heap %2$+.1f KiB per stream (RSS %1$+.1f KiB: dominated by the JVM committing and returning heap); the KV cache (%3$.1f MiB per slot) is allocated at load",
                (rss1 - rss0) / 1024.0 / n, (heap1 - heap0) / 1024.0 / n, slotBytes / 1048576.0));
    }

    void pytorch(GatewayProcess gw, Model m) throws Exception {
        Path script = Path.of("bench", "torch_hooks_bench.py");
        Path python = Path.of("/usr/bin/python3");
        if (!Files.isRegularFile(script) || !Files.isExecutable(python)) {
            report.note("PyTorch comparison skipped: " + script + " or /usr/bin/python3 missing.");
            return;
        }
        log("%s: PyTorch eager with hooks", m.name());
        int reps = Math.max(3, pairs / 4);
        Process p = new ProcessBuilder(python.toString(), script.toString(), m.checkpoint().toString(), "--tokens", Integer.toString(m.tokens()),
                "--prompt-len", Integer.toString(m.promptLength()), "--reps", Integer.toString(reps), "--threads", "1")
                .redirectError(WORK.resolve("torch.log").toFile()).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            report.note("PyTorch comparison skipped: the script exited " + p.exitValue() + " (Debian's python3-torch missing?); see target/bench/torch.log.");
            return;
        }
        JsonNode json = new ObjectMapper().readTree(out);
        List<Double> headgate = new ArrayList<>();
        for (int r = 0; r < reps; r++) headgate.add(perToken(gw, start(m, allHeads(m, 0)).build()));
        double ours = median(headgate);
        List<Double> ratios = new ArrayList<>();
        json.get("per_token_seconds").get("steered_hooks").forEach(t -> ratios.add(t.asDouble() / ours));
        report.rate("PyTorch " + json.get("torch").asText() + " eager + forward hooks ÷ Headgate gateway, all heads gained, time per token",
                m.name(), Stats.Spread.of(ratios).format("×") + " (PyTorch's repetitions against Headgate's median; a separate process, run after, not interleaved)");
    }

    // ------------------------------------------------------------------ other engines

    /**
     * Another commit's gateway beside this one: its own ratios (the engine table), and this
     * checkout against it directly, both gateways running and their blocks alternating.
     */
    void otherEngine(GatewayProcess ours, Engine e, Model parens, Model large, BundleCache cache) throws Exception {
        try (GatewayProcess theirs = gateway(e, parens, large)) {
            for (Model m : List.of(parens, large)) {
                lmGateway(theirs, e, m, cache);
                if (!report.hasEngineRows(current.label(), m.name())) lmGateway(ours, current, m, cache);
                Stats.Spread token = Stats.Spread.of(Interleaved.ratios(() -> perToken(theirs, start(m, identity()).build()),
                        () -> perToken(ours, start(m, identity()).build()), 1, pairs));
                report.engineDirect(e.label() + " ÷ " + current.label() + ", time per token, 1 stream", m.name(), token.format("×"));
                Stats.Spread rate = Stats.Spread.of(Interleaved.ratios(() -> steadyRate(ours, streams(m, 16, i -> identity())),
                        () -> steadyRate(theirs, streams(m, 16, i -> identity())), 1, pairs));
                report.engineDirect(current.label() + " ÷ " + e.label() + ", throughput, 16 streams", m.name(), rate.format("×"));
            }
        }
    }

    /** With one intra-op thread a model step uses one of the two cores; what a second one buys. */
    void twoThreads(Model parens, Model large, BundleCache cache) throws Exception {
        int threads = BareLoop.threads;
        BareLoop.threads = 2 * threads;
        log("starting the gateway with %d intra-op threads", BareLoop.threads);
        try (GatewayProcess gw = gateway(current, parens, large)) {
            Path steerable = cache.bundleFor(large.checkpoint(), CheckpointConverter.Options.STEERABLE);
            Model m = new Model(large.name() + " (" + BareLoop.threads + " threads)", large.checkpoint(), large.promptLength(),
                    large.tokens(), large.heads(), large.layers(), large.headDim(), large.vocab());
            try (BareLoop bare = new BareLoop(steerable, 1); var decoder = bare.decoder(large.promptLength(), large.tokens(), false)) {
                report.ratio(new Report.Ratio("gateway (gRPC, 1 stream) ÷ bare loop, time per token", m.name(),
                        Stats.Spread.of(Interleaved.ratios(() -> perToken(gw, start(large, identity()).build()), decoder::generation, 1, pairs)),
                        null, "≤ 1.10", r -> r <= 1.10));
            }
            report.ratio(new Report.Ratio("16 streams ÷ 1 stream (aggregate throughput)", m.name(),
                    Stats.Spread.of(Interleaved.ratios(() -> steadyRate(gw, streams(large, 16, i -> identity())),
                            () -> steadyRate(gw, streams(large, 1, i -> identity())), 1, pairs)),
                    null, "≥ 5", r -> r >= 5));
        } finally {
            BareLoop.threads = threads;
        }
    }

    // ------------------------------------------------------------------ measuring

    /** A ratio of this checkout, measured quiet and (with {@code --loaded}) under load. */
    void ratio(String what, Model m, String goal, DoublePredicate met, Interleaved.Block a, Interleaved.Block b) throws Exception {
        ratio(what, m.name(), goal, met, a, b);
    }

    /** A row of the main table: a ratio measured quiet and, with {@code --loaded}, again under load. */
    interface Ratios {
        void ratio(String what, String model, String goal, DoublePredicate met, Interleaved.Block a, Interleaved.Block b) throws Exception;
    }

    void ratio(String what, String model, String goal, DoublePredicate met, Interleaved.Block a, Interleaved.Block b) throws Exception {
        Stats.Spread quiet = Stats.Spread.of(Interleaved.ratios(a, b, 1, pairs));
        report.ratio(new Report.Ratio(what, model, quiet, loaded ? underLoad(a, b) : null, goal, met));
    }

    /** A ratio of one engine: in the main table (with its loaded twin) for this checkout, in the engine table for every engine. */
    void engineRatio(Engine engine, String what, Model m, String goal, DoublePredicate met, Interleaved.Block a, Interleaved.Block b)
            throws Exception {
        Stats.Spread quiet = Stats.Spread.of(Interleaved.ratios(a, b, 1, pairs));
        if (engine.current()) report.ratio(new Report.Ratio(what, m.name(), quiet, loaded ? underLoad(a, b) : null, goal, met));
        report.engine(engine.label(), what, m.name(), quiet);
    }

    /** The same pairs with one core kept busy by a spinning process. */
    Stats.Spread underLoad(Interleaved.Block a, Interleaved.Block b) throws Exception {
        try (BackgroundLoad load = BackgroundLoad.start()) {
            return Stats.Spread.of(Interleaved.ratios(a, b, 1, pairs));
        }
    }

    /** One stream's time per token after the first, from client-side arrival times. */
    static double perToken(GatewayProcess gw, Start start) throws Exception {
        GatewayProcess.Run run = gw.runAll(List.of(start), null).getFirst();
        return TokenTimes.of(run.startNanos, run.arrivals).decode();
    }

    /**
     * Tokens per second while every stream of a group is decoding: from the last stream's first
     * token to the first stream's last (prefill and the tail where streams finish left out).
     */
    static double steadyRate(List<GatewayProcess.Run> runs) {
        return KindRows.steadyRate(runs.stream().map(r -> r.arrivals).toList());
    }

    /** A group of streams none of whose tokens came while all of them decoded: the first ended before the last began. */
    static final class NeverAllDecoding extends IllegalStateException {
        NeverAllDecoding() {
            super("the streams never all decoded at once");
        }
    }

    /** {@link #steadyRate} of {@code starts} run together. */
    static double steadyRate(GatewayProcess gw, List<Start> starts) throws Exception {
        return overlapping(() -> steadyRate(gw.runAll(starts, null)));
    }

    /**
     * What a run of streams together gives. Short streams of a fast model can miss one another (the
     * first ends before the last begins, on a busy machine): such a run is run again, twice at most.
     */
    static <T> T overlapping(java.util.concurrent.Callable<T> run) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                return run.call();
            } catch (NeverAllDecoding e) {
                if (attempt == 3) throw e;
            }
        }
    }

    static Start.Builder start(Model m, Steering steering) {
        return start(m.name(), prompt(m), m.tokens()).toBuilder().setSteering(steering);
    }

    /** The prompt every single-stream row uses. */
    static long[] prompt(Model m) {
        long[] ids = new long[m.promptLength()];
        for (int i = 0; i < ids.length; i++) ids[i] = 3 + (i * 5) % 17;
        return ids;
    }

    static Start start(String model, long[] prompt, int tokens) {
        TokenIds.Builder ids = TokenIds.newBuilder();
        for (long id : prompt) ids.addIds(id);
        return Start.newBuilder().setModel(model).setTokenIds(ids).setMaxTokens(tokens).setIgnoreEos(true).setSteering(identity()).build();
    }

    static List<Start> streams(Model m, int n, Function<Integer, Steering> steering) {
        List<Start> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(start(m, steering.apply(i)).build());
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
}
