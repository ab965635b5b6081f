package io.headgate.api;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.headgate.api.v1.Discovery;
import io.headgate.api.v1.EvaluateRequest;
import io.headgate.api.v1.EvaluateResponse;
import io.headgate.api.v1.Profile;
import io.headgate.api.v1.ScanEvent;
import io.headgate.api.v1.ScanRequest;
import io.headgate.api.v1.SuggestProfileRequest;
import io.headgate.api.v1.GroupAccuracy;
import io.headgate.discovery.HeadClassifier;
import io.headgate.effect.Evaluator;
import io.headgate.effect.ProbeSets;
import io.headgate.server.Canaries;
import io.headgate.discovery.ProfileSuggestion;
import io.headgate.discovery.ScanJob;
import io.headgate.discovery.ScanReport;
import io.headgate.server.DiscoveryHost;
import io.headgate.server.HeadgateConfig;
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
 * {@code headgate.v1.Discovery}: head scans and the profiles suggested from them. Requests are
 * validated on a worker thread; a scan then runs on its model's discovery thread
 * ({@link DiscoveryHost}), never on the scheduler's. SuggestProfile needs the admin token.
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

    /** Probes per task/depth group: at most 150, so one evaluation (11 groups for parens-lm) fits the background queue. */
    static final int DEFAULT_PER_GROUP = 50, MAX_PER_GROUP = 150;

    @Override
    public Multi<ScanEvent> scan(ScanRequest request) {
        ScanJob job;
        try {
            LmModel model = readyModel(request.getModel());
            job = new ScanRequests(model, resolver, config.discovery()).job(request);
        } catch (StatusRuntimeException e) {
            return Multi.createFrom().failure(e);
        }
        return Multi.createFrom().emitter(emitter -> {
            try {
                host.submit(job, new ScanEmitter(emitter));
            } catch (RejectedExecutionException e) {
                emitter.fail(Errors.status(Status.RESOURCE_EXHAUSTED, "model", config.discovery().maxQueued()
                        + " scans of model '" + job.model() + "' are already waiting; retry later"));
            }
        });
    }

    @Override
    public Uni<Profile> suggestProfile(SuggestProfileRequest r) {
        return Uni.createFrom().item(() -> {
            LmModel model = readyModel(r.getModel());
            if (r.getScanId().isEmpty()) throw Errors.invalid("scan_id", "required");
            ScanReport scan = host.store().get(r.getScanId()).orElseThrow(() -> Errors.notFound("scan_id", "no recent scan '"
                    + r.getScanId() + "'; the last " + config.discovery().keepScans() + " scans are kept in memory"));
            if (!scan.model().equals(model.name())) {
                throw Errors.invalid("scan_id", "scan '" + scan.scanId() + "' is of model '" + scan.model() + "', not '" + model.name() + "'");
            }
            if (r.getName().equals(SteeringResolver.IDENTITY)) throw Errors.invalid("name", "'identity' is built in and cannot be changed");
            try {
                ProfileValidator.validateName(r.getName());
            } catch (ProfileException e) {
                throw Errors.invalid("name", e.getMessage());
            }
            ProfileSpec spec = suggestion(r).spec(scan, Instant.now());
            if (spec.gains().isEmpty()) {
                throw Errors.precondition("scan_id", "scan '" + scan.scanId() + "' found no sound heads" + (r.getDamp() > 0 ? " and no interfering heads" : "")
                        + " (" + scan.thresholds() + "); nothing to suggest. Scan with a lower sound_threshold or other examples");
            }
            try {
                ProfileValidator.validate(spec, model.manifest().dimensions(), resolver.maxMagnitude());
                return ProtoMapping.profile(registry.put(model.name(), r.getName(), spec, r.getExpectedRevision()));
            } catch (ProfileException e) {
                throw Errors.invalid(e.field().startsWith("gains") ? "boost" : e.field(), e.getMessage());
            } catch (IOException e) {
                throw Errors.internal("the profile store", e);
            } catch (RuntimeException e) {
                throw e instanceof StatusRuntimeException s ? s : Errors.ofProfile(e, "");
            }
        });
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

    /** Runs a built-in probe set through the model's scheduler at low priority (live traffic first). */
    @Override
    public Uni<EvaluateResponse> evaluate(EvaluateRequest r) {
        return Uni.createFrom().item(() -> {
            LmModel model = readyModel(r.getModel());
            var sets = ProbeSets.available(model.name());
            if (sets.isEmpty()) throw Errors.precondition("model", "model '" + model.name() + "' has no built-in probe sets");
            if (!r.getProbeSet().isEmpty() && !sets.contains(r.getProbeSet())) {
                throw Errors.invalid("probe_set", "no probe set '" + r.getProbeSet() + "'; available: " + String.join(", ", new java.util.TreeSet<>(sets)));
            }
            long asked = Integer.toUnsignedLong(r.getPerGroup()); // uint32: Java's int wraps above 2^31 - 1
            if (asked > MAX_PER_GROUP) throw Errors.invalid("per_group", asked + " exceeds " + MAX_PER_GROUP);
            int perGroup = asked == 0 ? DEFAULT_PER_GROUP : (int) asked;
            var steering = r.hasSteering() ? Requests.steering(resolver, model.manifest(), r.getSteering(), "steering", 1)
                    : resolver.identity(model.name(), model.manifest().dimensions());
            EvaluateResponse.Builder out = EvaluateResponse.newBuilder();
            try {
                for (Evaluator.GroupResult g : canaries.evaluate(model, steering, r.getProbeSet(), perGroup)) {
                    out.addGroups(GroupAccuracy.newBuilder().setTask(g.task()).setGroup(g.group()).setExamples(g.examples())
                            .setCorrect(g.correct()).setAccuracy(g.accuracy()));
                }
            } catch (io.headgate.engine.Rejection e) { // the background queue is full: other evaluations run
                throw Errors.of(e);
            } catch (java.util.concurrent.TimeoutException e) {
                throw io.grpc.Status.DEADLINE_EXCEEDED.withDescription("the evaluation did not finish in time; its probes were cancelled").asRuntimeException();
            } catch (Exception e) {
                throw Errors.internal("the evaluation", e);
            }
            return out.build();
        });
    }

    /** Discovery serves language models for now. */
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
