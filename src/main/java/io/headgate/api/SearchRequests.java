package io.headgate.api;

import io.headgate.api.v1.LabelledExample;
import io.headgate.api.v1.MetricGuard;
import io.headgate.api.v1.ProbeTask;
import io.headgate.api.v1.SearchReference;
import io.headgate.api.v1.SearchRequest;
import io.headgate.discovery.diffusion.SampleObjective;
import io.headgate.discovery.forecast.WindowObjective;
import io.headgate.discovery.lm.ProbeObjective;
import io.headgate.discovery.search.Intervention;
import io.headgate.discovery.search.MetricObjective;
import io.headgate.discovery.search.Objective;
import io.headgate.discovery.search.SearchPlan;
import io.headgate.discovery.search.Unit;
import io.headgate.effect.Evaluator;
import io.headgate.effect.Probe;
import io.headgate.effect.ProbeSets;
import io.headgate.effect.SampleEvaluator;
import io.headgate.effect.forecast.HeldOutStreams;
import io.headgate.model.BundleManifest;
import io.headgate.server.Canaries;
import io.headgate.server.LoadedModel;
import io.headgate.server.diffusion.DiffusionModel;
import io.headgate.server.forecast.ForecastModel;
import io.headgate.server.lm.LmModel;
import io.headgate.steer.ProfileException;
import io.headgate.steer.ProfileRegistry;
import io.headgate.steer.ProfileSpec;
import io.headgate.steer.ProfileValidator;
import io.headgate.steer.Steering;
import io.headgate.steer.SteeringResolver;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * A SearchRequest → the plan and the model kind's objective. Held-out sets are the ones Evaluate
 * scores (the canaries' seed and order), development sets come from another seed (or other series),
 * so a suggested profile's held-out score can be checked with Evaluate. Every refusal names the field.
 */
final class SearchRequests {

    /** Development probes and samples are drawn from this seed; held-out ones from {@link Canaries#SEED}. */
    static final long DEV_SEED = Canaries.SEED + 1_000_003;
    static final int DEFAULT_ROUNDS = 3, DEFAULT_MAX_EVALUATIONS = 2000, DEFAULT_MAX_SECONDS = 1800;
    static final int DEFAULT_PER_GROUP = 50, DEFAULT_PER_CLASS = 10, DEFAULT_PER_FREQUENCY = 10;
    /** Rows of candidates' streams in flight at once: enough to fill the scheduler's batches, few enough for live traffic. */
    private static final int IN_FLIGHT = 64;
    /** Streams per measurement call: a call's candidates share batches; the search checks for cancel between calls. */
    private static final int STREAMS_PER_CALL = 1024;

    record Search(SearchPlan plan, Objective objective) {
    }

    private final LoadedModel model;
    private final SteeringResolver resolver;
    private final ProfileRegistry registry;
    private final AtomicLong inlineNumbers = new AtomicLong();

    SearchRequests(LoadedModel model, SteeringResolver resolver, ProfileRegistry registry) {
        this.model = model;
        this.resolver = resolver;
        this.registry = registry;
    }

    Search search(SearchRequest r) {
        BundleManifest m = model.manifest();
        var dims = m.dimensions();
        Intervention intervention = intervention(r);
        List<Unit> candidates = candidates(r, dims.layers(), dims.heads());
        try {
            ProfileValidator.validate(intervention.profile(candidates, ""), dims, resolver.maxMagnitude());
        } catch (ProfileException e) {
            throw Errors.invalid(r.hasMix() ? "mix" : r.hasGuidance() && e.field().startsWith("guidance") ? "guidance" : "gain", e.getMessage());
        }
        List<SearchPlan.Reference> references = new ArrayList<>();
        for (int i = 0; i < r.getReferencesCount(); i++) {
            SearchReference ref = r.getReferences(i);
            String field = "references[" + i + "]";
            if (ref.getName().isEmpty()) throw Errors.invalid(field + ".name", "required");
            if (!ref.hasSteering()) throw Errors.invalid(field + ".steering", "required");
            Steering s = Requests.steering(resolver, m, ref.getSteering(), field + ".steering", 0); // validates it
            references.add(new SearchPlan.Reference(ref.getName(), ref.getSteering().hasInline() ? ProtoMapping.spec(ref.getSteering().getInline())
                    : storedSpec(s)));
        }
        List<Float> sweep = new ArrayList<>();
        for (int i = 0; i < r.getSweepCount(); i++) {
            float s = r.getSweep(i);
            try {
                ProfileValidator.validate(intervention.withStrength(s).profile(candidates.subList(0, 1), ""), dims, resolver.maxMagnitude());
            } catch (ProfileException e) {
                throw Errors.invalid("sweep[" + i + "]", e.getMessage());
            }
            sweep.add(s);
        }
        int maxSeconds = count(r.getMaxSeconds(), "max_seconds", DEFAULT_MAX_SECONDS, 7 * 24 * 3600);
        int perRound = count(r.getPerRound(), "per_round", 1, candidates.size());
        int rounds = count(r.getRounds(), "rounds", DEFAULT_ROUNDS, candidates.size());
        int randomSets = count(r.getRandomSets(), "random_sets", 0, 100);
        int maxEvaluations = count(r.getMaxEvaluations(), "max_evaluations", DEFAULT_MAX_EVALUATIONS, 1_000_000);
        Objective objective = objective(r, Duration.ofSeconds(maxSeconds));
        try {
            SearchPlan plan = new SearchPlan(candidates, intervention, perRound, rounds, r.getMaxLoss(), sweep, randomSets, r.getSeed(), references,
                    maxEvaluations, Duration.ofSeconds(maxSeconds));
            if (plan.maxEvaluations() < plan.minimumEvaluations()) {
                throw Errors.invalid("max_evaluations", plan.maxEvaluations() + " is below the " + plan.minimumEvaluations()
                        + " this search needs: the baseline, one round of " + candidates.size() + " candidates, the sweep and the held-out report");
            }
            return new Search(plan, objective);
        } catch (IllegalArgumentException e) {
            String message = e.getMessage();
            throw Errors.invalid(message.startsWith("max_loss") ? "max_loss" : "candidates", message);
        }
    }

    /** The stored profile a resolved steering names (identity: no controls). */
    private ProfileSpec storedSpec(Steering s) {
        if (s.tag().profile().equals(SteeringResolver.IDENTITY)) return ProfileSpec.IDENTITY;
        return registry.revision(model.name(), s.tag().profile(), s.tag().revision()).orElseThrow().spec();
    }

    /** A uint32 count: 0 takes the default; above {@code max} is refused naming the field. */
    private static int count(int asked, String field, int fallback, int max) {
        long n = Integer.toUnsignedLong(asked);
        if (n > max) throw Errors.invalid(field, n + " exceeds " + max);
        return n == 0 ? fallback : (int) n;
    }

    private Intervention intervention(SearchRequest r) {
        if (r.hasGuidance()) Requests.guidanceAllowed(model.manifest(), "guidance");
        if (!Float.isFinite(r.getGain()) || !Float.isFinite(r.getMix())) throw Errors.invalid(r.hasMix() ? "mix" : "gain", "must be finite");
        var guidance = r.hasGuidance() ? ProtoMapping.guidance(r.getGuidance()) : null;
        return switch (r.getInterventionCase()) {
            case GAIN -> new Intervention(Intervention.Kind.GAIN, r.getGain(), guidance);
            case MIX -> new Intervention(Intervention.Kind.MIX, r.getMix(), guidance);
            case INTERVENTION_NOT_SET -> throw Errors.invalid("intervention", "set gain (e.g. 1.5 to boost, 0 to prune) or mix (1: PAG)");
        };
    }

    private List<Unit> candidates(SearchRequest r, int layers, int heads) {
        Set<Integer> only = new HashSet<>();
        for (int i = 0; i < r.getLayersCount(); i++) {
            int l = r.getLayers(i);
            if (l < 0 || l >= layers) throw Errors.invalid("layers[" + i + "]", "layer " + Integer.toUnsignedString(l) + " is outside 0.." + (layers - 1));
            only.add(l);
        }
        List<Unit> all = r.getWholeLayers() ? Unit.layers(layers) : Unit.heads(layers, heads);
        return only.isEmpty() ? all : all.stream().filter(u -> only.contains(u.layer())).toList();
    }

    private Objective objective(SearchRequest r, Duration timeout) {
        Function<ProfileSpec, Steering> steering = spec -> resolver.inline(spec, model.manifest().dimensions(), inlineNumbers.incrementAndGet());
        return switch (model) {
            case LmModel lm -> {
                if (r.getObjectiveCase() != SearchRequest.ObjectiveCase.PROBES) throw wrongObjective("probes");
                yield probes(lm, r.getProbes(), steering, timeout);
            }
            case DiffusionModel d -> {
                if (r.getObjectiveCase() != SearchRequest.ObjectiveCase.SAMPLES) throw wrongObjective("samples");
                yield samples(d, r.getSamples(), steering, timeout);
            }
            case ForecastModel f -> {
                if (r.getObjectiveCase() != SearchRequest.ObjectiveCase.WINDOWS) throw wrongObjective("windows");
                yield windows(f, r.getWindows(), steering, timeout);
            }
            default -> throw Errors.precondition("model", "model '" + model.name() + "' is a " + model.manifest().kind() + " model; search serves "
                    + "language, diffusion and forecast models");
        };
    }

    private RuntimeException wrongObjective(String expected) {
        return Errors.invalid("objective", "model '" + model.name() + "' is a " + model.manifest().kind() + " model: set " + expected);
    }

    // ---------------------------------------------------------------- language models

    private Objective probes(LmModel lm, io.headgate.api.v1.ProbeObjective o, Function<ProfileSpec, Steering> steering, Duration timeout) {
        if (lm.tokenizer() == null) throw Errors.precondition("model", "model '" + lm.name() + "' has no tokenizer to read probes with");
        int dev = perGroup(o.getDevPerGroup(), "probes.dev_per_group"), held = perGroup(o.getHeldOutPerGroup(), "probes.held_out_per_group");
        if (!o.hasScore()) throw Errors.invalid("probes.score", "required: a probe set or inline examples");
        ProbeObjective.Task score = task(lm, o.getScore(), "probes.score", dev, held);
        List<ProbeObjective.GuardTask> guards = new ArrayList<>();
        for (int i = 0; i < o.getGuardsCount(); i++) {
            ProbeTask g = o.getGuards(i);
            String field = "probes.guards[" + i + "]";
            if (!(g.getTolerance() >= 0 && g.getTolerance() <= 1)) throw Errors.invalid(field + ".tolerance", "must be in [0, 1], got " + g.getTolerance());
            guards.add(new ProbeObjective.GuardTask(task(lm, g, field, dev, held), g.getTolerance()));
        }
        int probes = score.dev().size() + guards.stream().mapToInt(g -> g.task().dev().size()).sum();
        Evaluator evaluator = new Evaluator(lm.scheduler(), lm.workload(), text -> lm.tokenizer().encode(text));
        return new ProbeObjective(evaluator, steering, score, guards, batch(probes), IN_FLIGHT, timeout);
    }

    private static int perGroup(int asked, String field) {
        long n = Integer.toUnsignedLong(asked);
        if (n > DiscoveryService.MAX_PER_GROUP) throw Errors.invalid(field, n + " exceeds " + DiscoveryService.MAX_PER_GROUP);
        return n == 0 ? DEFAULT_PER_GROUP : (int) n;
    }

    private ProbeObjective.Task task(LmModel lm, ProbeTask t, String field, int devPerGroup, int heldOutPerGroup) {
        if (t.hasInline()) {
            if (!t.getProbeSet().isEmpty()) throw Errors.invalid(field, "set probe_set or inline, not both");
            List<LabelledExample> given = t.getInline().getExamplesList();
            if (given.size() < 4) throw Errors.invalid(field + ".inline.examples", given.size() + " examples; at least 4 (half develop, half are held out)");
            List<Probe> dev = new ArrayList<>(), held = new ArrayList<>();
            for (int i = 0; i < given.size(); i++) {
                LabelledExample e = given.get(i);
                if (e.getPrompt().isEmpty() || e.getAnswer().isEmpty()) throw Errors.invalid(field + ".inline.examples[" + i + "]", "prompt and answer are required");
                Requests.encodeWhole(lm.tokenizer(), e.getPrompt() + e.getAnswer(), field + ".inline.examples[" + i + "]");
                (i % 2 == 0 ? dev : held).add(new Probe("inline", "inline", e.getPrompt(), e.getAnswer()));
            }
            try {
                return new ProbeObjective.Task("inline examples", dev, held);
            } catch (IllegalArgumentException e) {
                throw Errors.invalid(field + ".inline.examples", e.getMessage());
            }
        }
        Set<String> sets = ProbeSets.available(lm.name());
        if (!sets.contains(t.getProbeSet())) {
            throw Errors.invalid(field + ".probe_set", (t.getProbeSet().isEmpty() ? "required" : "no probe set '" + t.getProbeSet() + "'")
                    + "; available: " + (sets.isEmpty() ? "none (send inline examples)" : String.join(", ", new java.util.TreeSet<>(sets))));
        }
        int min = t.getMinDepth() == 0 ? 1 : t.getMinDepth(), max = t.getMaxDepth() == 0 ? ProbeSets.MAX_DEPTH : t.getMaxDepth();
        boolean brackets = t.getProbeSet().equals(ProbeSets.BRACKETS);
        if (!brackets && (t.getMinDepth() != 0 || t.getMaxDepth() != 0)) throw Errors.invalid(field + ".min_depth", "depths apply to brackets only");
        if (min > max || max > ProbeSets.MAX_DEPTH) throw Errors.invalid(field + ".max_depth", "depths must satisfy 1 <= min <= max <= " + ProbeSets.MAX_DEPTH);
        List<Probe> held = depths(ProbeSets.parensLm(t.getProbeSet(), heldOutPerGroup, Canaries.SEED), brackets, min, max);
        Set<String> heldPrompts = new HashSet<>();
        held.forEach(p -> heldPrompts.add(p.prompt()));
        List<Probe> dev = depths(ProbeSets.parensLm(t.getProbeSet(), devPerGroup, DEV_SEED), brackets, min, max).stream()
                .filter(p -> !heldPrompts.contains(p.prompt())).toList();
        String name = brackets ? "brackets depth " + (min == max ? min : min + "-" + max) : t.getProbeSet();
        return new ProbeObjective.Task(name, dev, held);
    }

    /** Brackets probes of depths min..max (their group is "depth N ..."); other sets whole. */
    private static List<Probe> depths(List<Probe> probes, boolean brackets, int min, int max) {
        if (!brackets) return probes;
        return probes.stream().filter(p -> {
            int depth = Integer.parseInt(p.group().split(" ")[1]);
            return depth >= min && depth <= max;
        }).toList();
    }

    // ---------------------------------------------------------------- diffusion models

    private Objective samples(DiffusionModel d, io.headgate.api.v1.SampleObjective o, Function<ProfileSpec, Steering> steering, Duration timeout) {
        if (d.classifier() == null || d.realFeatures() == null) {
            throw Errors.precondition("model", "model '" + d.name() + "' ships no classifier and feature statistics to score samples with");
        }
        SampleObjective.Metric score = metric(SampleObjective.Metric.class, o.getMetric(), "samples.metric");
        List<MetricObjective.MetricGuard<SampleObjective.Metric>> guards = new ArrayList<>();
        for (int i = 0; i < o.getGuardsCount(); i++) {
            MetricGuard g = o.getGuards(i);
            guards.add(new MetricObjective.MetricGuard<>(metric(SampleObjective.Metric.class, g.getMetric(), "samples.guards[" + i + "].metric"), tolerance(g, "samples.guards[" + i + "]")));
        }
        if (o.getUnconditional() && (score == SampleObjective.Metric.ACCURACY || guards.stream().anyMatch(g -> g.metric() == SampleObjective.Metric.ACCURACY))) {
            throw Errors.invalid("samples.metric", "unconditional samples have no label: use confidence or frechet_distance");
        }
        int dev = o.getDevPerClass() == 0 ? DEFAULT_PER_CLASS : o.getDevPerClass();
        int held = o.getHeldOutPerClass() == 0 ? DEFAULT_PER_CLASS : o.getHeldOutPerClass();
        if (dev > 1000 || held > 1000) throw Errors.invalid(dev > 1000 ? "samples.dev_per_class" : "samples.held_out_per_class", "at most 1000");
        var evaluator = new SampleEvaluator(d.scheduler(), d.workload(), d.classifier(), d.realFeatures());
        var devSamples = new SampleEvaluator.Samples(dev, o.getUnconditional(), DEV_SEED);
        return new SampleObjective(evaluator, steering, score, guards, devSamples, new SampleEvaluator.Samples(held, o.getUnconditional(), Canaries.SEED),
                batch(evaluator.count(devSamples)), IN_FLIGHT / 4, timeout);
    }

    /** A metric by its lower-case name, refused naming {@code field} with the names there are. */
    private static <M extends Enum<M>> M metric(Class<M> metrics, String name, String field) {
        for (M m : metrics.getEnumConstants()) if (MetricObjective.label(m).equalsIgnoreCase(name)) return m;
        throw Errors.invalid(field, (name.isEmpty() ? "required" : "no metric '" + name + "'") + "; one of "
                + String.join(", ", java.util.Arrays.stream(metrics.getEnumConstants()).map(MetricObjective::label).toList()));
    }

    private static double tolerance(MetricGuard g, String field) {
        if (!(g.getTolerance() >= 0) || Double.isInfinite(g.getTolerance())) throw Errors.invalid(field + ".tolerance", "must be finite and >= 0");
        return g.getTolerance();
    }

    // ---------------------------------------------------------------- forecasters

    private Objective windows(ForecastModel f, io.headgate.api.v1.WindowObjective o, Function<ProfileSpec, Steering> steering, Duration timeout) {
        if (f.heldOut() == null) throw Errors.precondition("model", "model '" + f.name() + "' ships no held-out series to score forecasts on");
        WindowObjective.Metric score = metric(WindowObjective.Metric.class, o.getMetric(), "windows.metric");
        List<MetricObjective.MetricGuard<WindowObjective.Metric>> guards = new ArrayList<>();
        for (int i = 0; i < o.getGuardsCount(); i++) {
            MetricGuard g = o.getGuards(i);
            guards.add(new MetricObjective.MetricGuard<>(metric(WindowObjective.Metric.class, g.getMetric(), "windows.guards[" + i + "].metric"), tolerance(g, "windows.guards[" + i + "]")));
        }
        int dev = o.getDevPerFrequency() == 0 ? DEFAULT_PER_FREQUENCY : o.getDevPerFrequency();
        int held = o.getHeldOutPerFrequency() == 0 ? DEFAULT_PER_FREQUENCY : o.getHeldOutPerFrequency();
        var split = WindowObjective.split(f.heldOut().windows(), dev, held);
        if (split.get(0).isEmpty()) throw Errors.invalid("windows.held_out_per_frequency", "holding out " + held + " windows per frequency leaves no series to develop on");
        var streams = new HeldOutStreams(f.scheduler(), f.workload(), f.heldOut());
        return new WindowObjective(streams, steering, score, guards, split.get(0), split.get(1), batch(split.get(0).size()), IN_FLIGHT, timeout);
    }

    /** Candidates per measurement call for {@code streams} streams per candidate. */
    private static int batch(int streams) {
        return Math.max(1, Math.min(16, STREAMS_PER_CALL / Math.max(1, streams)));
    }
}
