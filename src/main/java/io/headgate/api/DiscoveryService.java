package io.headgate.api;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.headgate.api.v1.DirectionsEvent;
import io.headgate.api.v1.DirectionsRequest;
import io.headgate.api.v1.Discovery;
import io.headgate.api.v1.EvaluateRequest;
import io.headgate.api.v1.EvaluateResponse;
import io.headgate.api.v1.Profile;
import io.headgate.api.v1.ScanEvent;
import io.headgate.api.v1.ScanRequest;
import io.headgate.api.v1.SuggestProfileRequest;
import io.headgate.api.v1.SaveSearchProfileRequest;
import io.headgate.api.v1.SearchEvent;
import io.headgate.api.v1.SearchRequest;
import io.headgate.server.LoadedModel;
import io.headgate.server.diffusion.DiffusionModel;
import io.headgate.server.forecast.ForecastModel;
import io.headgate.api.v1.SampleScores;
import io.headgate.api.v1.ForecastScores;
import io.headgate.effect.SampleEvaluator;
import io.headgate.effect.SampleQuality;
import io.headgate.effect.forecast.HeldOutStreams;
import io.headgate.effect.forecast.HeldOutScores;
import java.util.List;
import io.smallrye.mutiny.subscription.MultiEmitter;
import java.util.function.Consumer;
import io.headgate.api.v1.GroupAccuracy;
import io.headgate.discovery.HeadClassifier;
import io.headgate.effect.Evaluator;
import io.headgate.effect.ProbeSets;
import io.headgate.server.Canaries;
import io.headgate.discovery.ProfileSuggestion;
import io.headgate.discovery.ScanJob;
import io.headgate.discovery.ScanReport;
import io.headgate.discovery.directions.DirectionsJob;
import io.headgate.server.DiscoveryHost;
import io.headgate.server.HeadgateConfig;
import io.headgate.server.LoadedModel;
import io.headgate.server.lm.LmModel;
import io.headgate.server.ModelHost;
import io.headgate.steer.ProfileException;
import io.headgate.steer.ProfileRegistry;
import io.headgate.steer.ProfileSpec;
import io.headgate.steer.ProfileValidator;
import io.headgate.steer.SteeringResolver;
import io.quarkus.grpc.GrpcService;
import io.quarkus.grpc.RegisterInterceptor;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;

import java.io.IOException;
import java.time.Instant;
import java.util.concurrent.RejectedExecutionException;

/**
 * {@code headgate.v1.Discovery}: head scans and the profiles suggested from them, searches,
 * directions and evaluations. Requests are validated on a worker thread; scans, searches and
 * directions then run on the model's discovery thread ({@link DiscoveryHost}), never on the
 * scheduler's. SuggestProfile and SaveSearchProfile need the admin token.
 */
@GrpcService
@Blocking
@RegisterInterceptor(DiscoveryAuth.class)
public class DiscoveryService implements Discovery {

    @Inject
    ModelHost models;
    @Inject
    DiscoveryHost host;
    @Inject
    SteeringResolver resolver;
    @Inject
    ProfileRegistry registry;
    @Inject
    HeadgateConfig config;
    @Inject
    Canaries canaries;

    /**
     * Probes per task/depth group: at most 150, so one evaluation (11 groups for parens-lm) fits the
     * background queue; diffusion and forecast evaluations keep at most 64 streams in flight instead.
     */
    static final int DEFAULT_PER_GROUP = 50, MAX_PER_GROUP = 150, MAX_PER_CLASS = 1000, MAX_PER_FREQUENCY = 10_000;
    private static final int EVALUATION_IN_FLIGHT = 64;
    private static final java.time.Duration EVALUATION_TIMEOUT = java.time.Duration.ofMinutes(10);

    @Override
    public Multi<ScanEvent> scan(ScanRequest request) {
        ScanJob job;
        try {
            LmModel model = readyModel(request.getModel());
            job = new ScanRequests(model, resolver, config.discovery()).job(request);
        } catch (StatusRuntimeException e) {
            return Multi.createFrom().failure(e);
        }
        return queued(job.model(), emitter -> host.submit(job, new ScanEmitter(emitter)));
    }

    /** Directions: checked here, then run as a job on the model's discovery thread like a scan. */
    @Override
    public Multi<DirectionsEvent> directions(DirectionsRequest request) {
        DirectionsJob job;
        try {
            LoadedModel loaded = Requests.readyModel(models, request.getModel(), "model");
            if (!(loaded instanceof LmModel model)) {
                throw Errors.invalid("model", "model '" + request.getModel() + "' is a " + loaded.manifest().kind() + " model; Directions serves "
                        + String.join(", ", DirectionsCall.SUPPORTED_KINDS) + " models (it reads head outputs at a prompt's last token)");
            }
            job = new DirectionsRequests(model, config.discovery()).job(request);
        } catch (StatusRuntimeException e) {
            return Multi.createFrom().failure(e);
        }
        return queued(job.model(), emitter -> host.submit(job.model(), new DirectionsCall(job, resolver.maxMagnitude(), emitter)));
    }

    @Override
    public Uni<Profile> suggestProfile(SuggestProfileRequest r) {
        return Uni.createFrom().item(() -> {
            LmModel model = readyModel(r.getModel());
            if (r.getScanId().isEmpty()) throw Errors.invalid("scan_id", "required");
            ScanReport scan = host.scans().get(r.getScanId()).orElseThrow(() -> Errors.notFound("scan_id", "no recent scan '"
                    + r.getScanId() + "'; the last " + config.discovery().keepScans() + " scans are kept in memory"));
            if (!scan.model().equals(model.name())) {
                throw Errors.invalid("scan_id", "scan '" + scan.scanId() + "' is of model '" + scan.model() + "', not '" + model.name() + "'");
            }
            checkName(r.getName());
            ProfileSpec spec = suggestion(r).spec(scan, Instant.now());
            if (spec.gains().isEmpty()) {
                throw Errors.precondition("scan_id", "scan '" + scan.scanId() + "' found no sound heads" + (r.getDamp() > 0 ? " and no interfering heads" : "")
                        + " (" + scan.thresholds() + "); nothing to suggest. Scan with a lower sound_threshold or other examples");
            }
            return writeProfile(model, r.getName(), spec, r.getExpectedRevision(), "boost");
        });
    }

    /** Validates the request here, then queues the search on the model's discovery thread. */
    @Override
    public Multi<SearchEvent> search(SearchRequest request) {
        LoadedModel model;
        SearchRequests.Search search;
        try {
            model = Requests.readyModel(models, request.getModel(), "model");
            search = new SearchRequests(model, resolver, registry).search(request);
        } catch (StatusRuntimeException e) {
            return Multi.createFrom().failure(e);
        }
        return queued(model.name(), emitter -> host.submit(model.name(), new SearchCall(model.name(), search, host, emitter)));
    }

    /**
     * A discovery call's events: {@code submit} queues its job on the model's discovery thread; a
     * full queue fails the call with RESOURCE_EXHAUSTED.
     */
    private <E> Multi<E> queued(String model, Consumer<MultiEmitter<? super E>> submit) {
        return Multi.createFrom().emitter(emitter -> {
            try {
                submit.accept(emitter);
            } catch (RejectedExecutionException e) {
                emitter.fail(Errors.status(Status.RESOURCE_EXHAUSTED, "model", config.discovery().maxQueued()
                        + " discovery jobs of model '" + model + "' are already waiting; retry later"));
            }
        });
    }

    @Override
    public Uni<Profile> saveSearchProfile(SaveSearchProfileRequest r) {
        return Uni.createFrom().item(() -> {
            LoadedModel model = Requests.readyModel(models, r.getModel(), "model");
            if (r.getSearchId().isEmpty()) throw Errors.invalid("search_id", "required");
            checkName(r.getName());
            var stored = host.searches().get(r.getSearchId()).orElseThrow(() -> Errors.notFound("search_id", "no recent search '"
                    + r.getSearchId() + "'; the last " + config.discovery().keepScans() + " searches are kept in memory"));
            if (!stored.model().equals(model.name())) {
                throw Errors.invalid("search_id", "search '" + stored.id() + "' is of model '" + stored.model() + "', not '" + model.name() + "'");
            }
            ProfileSpec spec = stored.result().suggested();
            if (spec == null) throw Errors.precondition("search_id", "search '" + stored.id() + "' chose no units (it stopped: "
                    + stored.result().stop().name().toLowerCase() + "); nothing to save");
            return writeProfile(model, r.getName(), spec, r.getExpectedRevision(), "");
        });
    }

    /** Writes a discovered profile under {@code name} after the checks every write gets. */
    private Profile writeProfile(LoadedModel model, String name, ProfileSpec spec, long expectedRevision, String gainsField) {
        checkName(name);
        try {
            ProfileValidator.validate(spec, model.manifest().dimensions(), resolver.maxMagnitude());
            return ProtoMapping.profile(registry.put(model.name(), name, spec, expectedRevision));
        } catch (ProfileException e) {
            throw Errors.invalid(!gainsField.isEmpty() && e.field().startsWith("gains") ? gainsField : e.field(), e.getMessage());
        } catch (IOException e) {
            throw Errors.internal("the profile store", e);
        } catch (RuntimeException e) {
            throw e instanceof StatusRuntimeException s ? s : Errors.ofProfile(e, "");
        }
    }

    private static void checkName(String name) {
        if (name.equals(SteeringResolver.IDENTITY)) throw Errors.invalid("name", "'identity' is built in and cannot be changed");
        try {
            ProfileValidator.validateName(name);
        } catch (ProfileException e) {
            throw Errors.invalid("name", e.getMessage());
        }
    }

    /** boost 0 takes the default; damp 0 leaves interfering heads alone. */
    private ProfileSuggestion suggestion(SuggestProfileRequest r) {
        float boost = r.getBoost() == 0 ? ProfileSuggestion.DEFAULT_BOOST : r.getBoost();
        if (!(boost > 0) || !Float.isFinite(boost) || boost > resolver.maxMagnitude()) {
            throw Errors.invalid("boost", "must be a positive gain up to " + resolver.maxMagnitude() + " (0: " + ProfileSuggestion.DEFAULT_BOOST + "), got " + r.getBoost());
        }
        if (!(r.getDamp() >= 0 && r.getDamp() <= 1)) throw Errors.invalid("damp", "must be in [0, 1] (0: leave interfering heads), got " + r.getDamp());
        return new ProfileSuggestion(boost, r.getDamp(), r.getTop());
    }

    /**
     * Scores a steering on the model's built-in evaluation set, as low-priority streams of its
     * scheduler (live traffic first): the same probes, seeds or windows on every call of one size.
     */
    @Override
    public Uni<EvaluateResponse> evaluate(EvaluateRequest r) {
        return Uni.createFrom().item(() -> {
            LoadedModel model = Requests.readyModel(models, r.getModel(), "model");
            if (r.getUnconditional() && !(model instanceof DiffusionModel)) throw Errors.invalid("unconditional", "applies to diffusion models only");
            if (!r.getProbeSet().isEmpty() && !(model instanceof LmModel)) throw Errors.invalid("probe_set", "applies to language models only");
            long asked = Integer.toUnsignedLong(r.getPerGroup()); // uint32: Java's int wraps above 2^31 - 1
            var steering = r.hasSteering() ? Requests.steering(resolver, model.manifest(), r.getSteering(), "steering", 1)
                    : resolver.identity(model.name(), model.manifest().dimensions());
            try {
                return switch (model) {
                    case LmModel lm -> evaluate(lm, steering, r.getProbeSet(), asked);
                    case DiffusionModel d -> evaluate(d, steering, r.getUnconditional(), asked);
                    case ForecastModel f -> evaluate(f, steering, asked);
                    default -> throw Errors.precondition("model", "model '" + model.name() + "' has no built-in evaluation set");
                };
            } catch (StatusRuntimeException e) {
                throw e;
            } catch (io.headgate.engine.Rejection e) { // the background queue is full: other evaluations run
                throw Errors.of(e);
            } catch (java.util.concurrent.TimeoutException e) {
                throw io.grpc.Status.DEADLINE_EXCEEDED.withDescription("the evaluation did not finish in time; its streams were cancelled").asRuntimeException();
            } catch (Exception e) {
                throw Errors.internal("the evaluation", e);
            }
        });
    }

    private EvaluateResponse evaluate(LmModel model, io.headgate.steer.Steering steering, String probeSet, long asked) throws Exception {
        var sets = ProbeSets.available(model.name());
        if (sets.isEmpty()) throw Errors.precondition("model", "model '" + model.name() + "' has no built-in probe sets");
        if (!probeSet.isEmpty() && !sets.contains(probeSet)) {
            throw Errors.invalid("probe_set", "no probe set '" + probeSet + "'; available: " + String.join(", ", new java.util.TreeSet<>(sets)));
        }
        if (asked > MAX_PER_GROUP) throw Errors.invalid("per_group", asked + " exceeds " + MAX_PER_GROUP);
        int perGroup = asked == 0 ? DEFAULT_PER_GROUP : (int) asked;
        EvaluateResponse.Builder out = EvaluateResponse.newBuilder();
        for (Evaluator.GroupResult g : canaries.evaluate(model, steering, probeSet, perGroup)) {
            out.addGroups(GroupAccuracy.newBuilder().setTask(g.task()).setGroup(g.group()).setExamples(g.examples())
                    .setCorrect(g.correct()).setAccuracy(g.accuracy()));
        }
        return out.build();
    }

    private EvaluateResponse evaluate(DiffusionModel model, io.headgate.steer.Steering steering, boolean unconditional, long asked) throws Exception {
        if (model.classifier() == null || model.realFeatures() == null) {
            throw Errors.precondition("model", "model '" + model.name() + "' ships no classifier and feature statistics to score samples with");
        }
        if (asked > MAX_PER_CLASS) throw Errors.invalid("per_group", asked + " samples per class exceeds " + MAX_PER_CLASS);
        int perClass = asked == 0 ? SearchRequests.DEFAULT_PER_CLASS : (int) asked;
        var evaluator = new SampleEvaluator(model.scheduler(), model.workload(), model.classifier(), model.realFeatures());
        var samples = new SampleEvaluator.Samples(perClass, unconditional, Canaries.SEED);
        SampleQuality q = evaluator.evaluate(List.of(steering), samples, EVALUATION_IN_FLIGHT, EVALUATION_TIMEOUT, () -> false).getFirst().quality();
        return EvaluateResponse.newBuilder().setSamples(SampleScores.newBuilder().setImages(q.count())
                .setAccuracy(unconditional ? 0 : q.accuracy()).setConfidence(q.confidence()).setFrechetDistance(q.frechetDistance())).build();
    }

    private EvaluateResponse evaluate(ForecastModel model, io.headgate.steer.Steering steering, long asked) throws Exception {
        if (model.heldOut() == null) throw Errors.precondition("model", "model '" + model.name() + "' ships no held-out series to score forecasts on");
        if (asked > MAX_PER_FREQUENCY) throw Errors.invalid("per_group", asked + " windows per frequency exceeds " + MAX_PER_FREQUENCY);
        int perFrequency = asked == 0 ? SearchRequests.DEFAULT_PER_FREQUENCY : (int) asked;
        var streams = new HeldOutStreams(model.scheduler(), model.workload(), model.heldOut());
        var windows = streams.windows(perFrequency);
        HeldOutScores.Summary q = streams.evaluate(List.of(steering), windows, EVALUATION_IN_FLIGHT, EVALUATION_TIMEOUT, () -> false).getFirst().overall();
        return EvaluateResponse.newBuilder().setForecast(ForecastScores.newBuilder().setSeries(q.series()).setWindows(q.windows())
                .setRelativeMase(q.relativeMase()).setRelativeWql(q.relativeWql())).build();
    }

    /** Scans and suggestions serve language models. */
    private LmModel readyModel(String name) {
        return Requests.readyModel(models, name, "model", LmModel.class, "Discovery");
    }

    static HeadClassifier classifier(float soundThreshold, double margin) {
        double threshold = soundThreshold == 0 ? HeadClassifier.DEFAULT_THRESHOLD : soundThreshold;
        if (!(threshold > 0.5 && threshold <= 1)) {
            throw Errors.invalid("sound_threshold", "must be in (0.5, 1] (0: " + HeadClassifier.DEFAULT_THRESHOLD + "), got " + soundThreshold);
        }
        return new HeadClassifier(threshold, margin, true);
    }
}
