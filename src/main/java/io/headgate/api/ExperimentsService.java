package io.headgate.api;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.headgate.api.v1.DeleteExperimentRequest;
import io.headgate.api.v1.DeleteExperimentResponse;
import io.headgate.api.v1.Experiment;
import io.headgate.api.v1.Experiments;
import io.headgate.api.v1.GetExperimentRequest;
import io.headgate.api.v1.ListExperimentsRequest;
import io.headgate.api.v1.ListExperimentsResponse;
import io.headgate.api.v1.PromoteArmRequest;
import io.headgate.api.v1.PutExperimentRequest;
import io.headgate.api.v1.ArmComparison;
import io.headgate.api.v1.CompareExperimentRequest;
import io.headgate.api.v1.CompareExperimentResponse;
import io.headgate.effect.ProbeSets;
import io.headgate.effect.McNemarTest;
import io.headgate.engine.EngineMetrics;
import io.headgate.server.Canaries;
import io.headgate.engine.lm.LmMeters;
import io.headgate.server.LoadedModel;
import io.headgate.server.diffusion.DiffusionModel;
import io.headgate.server.forecast.ForecastModel;
import io.headgate.server.lm.LmModel;
import io.headgate.server.ModelHost;
import io.headgate.steer.Arm;
import io.headgate.steer.ExperimentRegistry;
import io.headgate.steer.ExperimentSpec;
import io.headgate.steer.ProfileException;
import io.headgate.steer.ProfileValidator;
import io.headgate.steer.RegistryUnavailableException;
import io.headgate.steer.StaleRevisionException;
import io.headgate.steer.SteeringResolver;
import io.headgate.steer.UnknownProfileException;
import io.quarkus.grpc.GrpcService;
import io.quarkus.grpc.RegisterInterceptor;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;

import java.io.IOException;
import java.util.concurrent.Callable;

/** {@code headgate.v1.Experiments} (admin): versioned A/B experiments whose arms are profiles of the model. */
@GrpcService
@Blocking
@RegisterInterceptor(AdminAuth.class)
public class ExperimentsService implements Experiments {

    @Inject
    ExperimentRegistry registry;
    @Inject
    ModelHost models;
    @Inject
    SteeringResolver resolver;
    @Inject
    Canaries canaries;

    @Override
    public Uni<Experiment> put(PutExperimentRequest r) {
        return call(() -> {
            LoadedModel m = Requests.readyModel(models, r.getModel(), "model");
            ProfileValidator.validateName(r.getName());
            if (!r.hasSpec()) throw Errors.invalid("spec", "required");
            ExperimentSpec spec = ProtoMapping.experimentSpec(r.getSpec());
            try {
                spec.validate(false);
            } catch (ProfileException e) {
                throw Errors.invalid(Errors.join("spec", e.field()), e.getMessage());
            }
            for (int i = 0; i < spec.arms().size(); i++) {
                Arm arm = spec.arms().get(i);
                try {
                    resolver.profile(r.getModel(), m.manifest().dimensions(), arm.profile());
                } catch (UnknownProfileException e) {
                    throw Errors.notFound("spec.arms[" + i + "].profile", e.getMessage());
                } catch (ProfileException e) {
                    throw Errors.invalid("spec.arms[" + i + "].profile", e.getMessage());
                }
            }
            return ProtoMapping.experiment(registry.put(r.getModel(), r.getName(), spec, r.getExpectedRevision()));
        });
    }

    @Override
    public Uni<Experiment> get(GetExperimentRequest r) {
        return call(() -> {
            var found = r.getRevision() == 0 ? registry.latest(r.getModel(), r.getName())
                    : registry.revision(r.getModel(), r.getName(), r.getRevision());
            return ProtoMapping.experiment(found.orElseThrow(() -> Errors.notFound("name", "no experiment '" + r.getName() + "'"
                    + (r.getRevision() == 0 ? "" : " at revision " + r.getRevision()) + " for model '" + r.getModel() + "'")));
        });
    }

    @Override
    public Uni<ListExperimentsResponse> list(ListExperimentsRequest r) {
        return call(() -> {
            ListExperimentsResponse.Builder b = ListExperimentsResponse.newBuilder();
            registry.list(r.getModel()).forEach(e -> b.addExperiments(ProtoMapping.experiment(e)));
            return b.build();
        });
    }

    @Override
    public Uni<DeleteExperimentResponse> delete(DeleteExperimentRequest r) {
        return call(() -> {
            requireExisting(r.getModel(), r.getName());
            return DeleteExperimentResponse.newBuilder()
                    .setRevision(registry.delete(r.getModel(), r.getName(), r.getExpectedRevision())).build();
        });
    }

    @Override
    public Uni<Experiment> promote(PromoteArmRequest r) {
        return call(() -> {
            var current = requireExisting(r.getModel(), r.getName());
            if (current.spec().arm(r.getArm()) == null) {
                throw Errors.notFound("arm", "experiment '" + r.getName() + "' has no arm '" + r.getArm() + "'");
            }
            return ProtoMapping.experiment(registry.promote(r.getModel(), r.getName(), r.getArm(), r.getExpectedRevision()));
        });
    }

    /**
     * Live totals per arm, and a canary run per arm's profile — a language model's probe sets, a
     * diffusion model's conditional samples — tested against the first arm's with McNemar's test.
     */
    @Override
    public Uni<CompareExperimentResponse> compare(CompareExperimentRequest r) {
        return call(() -> {
            LoadedModel m = Requests.readyModel(models, r.getModel(), "model");
            var experiment = requireExisting(r.getModel(), r.getName());
            long asked = Integer.toUnsignedLong(r.getPerGroup()); // uint32: Java's int wraps above 2^31 - 1
            int limit = m instanceof LmModel ? DiscoveryService.MAX_PER_GROUP : 100; // what one canary run may queue
            if (asked > limit) throw Errors.invalid("per_group", asked + " exceeds " + limit);
            int perGroup = asked == 0 ? (m instanceof LmModel ? 20 : 10) : (int) asked;
            CompareExperimentResponse.Builder out = CompareExperimentResponse.newBuilder().setTest(McNemarTest.NAME);
            boolean[] first = null;
            double[] firstMae = null;
            for (Arm arm : experiment.spec().arms()) {
                boolean[] firstLower = null;
                var steering = resolver.profile(m.name(), m.manifest().dimensions(), arm.profile());
                EngineMetrics.ArmTotals live = m.scheduler().armTotals(arm.name());
                ArmComparison.Builder b = ArmComparison.newBuilder().setArm(arm.name()).setProfile(arm.profile())
                        .setTokens(live.outputs()).setFirstTokens(live.firstOutputs()).setMeanTimeToFirstTokenSeconds(live.meanTimeToFirstOutput());
                boolean[] canary = new boolean[0]; // each probe's outcome, the same probes in the same order for every arm
                switch (m) {
                    case LmModel lm -> {
                        LmMeters.KlTotals kl = lm.meters().klTotals(arm.name());
                        b.setKlSamples(kl.samples()).setMeanKl(kl.mean());
                        if (!ProbeSets.available(m.name()).isEmpty()) canary = canaries.outcomes(lm, steering, "", perGroup);
                    }
                    case DiffusionModel d when d.classifier() != null && d.realFeatures() != null -> {
                        var outcome = canaries.quality(d, steering, perGroup);
                        canary = outcome.correct();
                        b.setCanaryConfidence(outcome.quality().confidence()).setCanaryFrechetDistance(outcome.quality().frechetDistance());
                    }
                    case ForecastModel f when f.heldOut() != null -> {
                        var outcome = canaries.heldOut(f, steering, perGroup);
                        b.setRelativeMase(outcome.overall().relativeMase()).setRelativeWql(outcome.overall().relativeWql());
                        if (firstMae == null) firstMae = outcome.windowMae();
                        canary = lowerThan(outcome.windowMae(), firstMae); // paired windows: where this arm's error is below the first's
                        firstLower = lowerThan(firstMae, outcome.windowMae());
                    }
                    default -> {
                    }
                }
                if (first == null) first = canary;
                // forecasts: a sign test on the windows where the two arms' errors differ
                McNemarTest test = firstLower != null ? McNemarTest.of(count(firstLower), count(canary)) : McNemarTest.of(first, canary);
                int correct = 0;
                for (boolean c : canary) if (c) correct++;
                int examples = firstLower != null ? count(firstLower) + correct : canary.length;
                out.addArms(b.setCanaryExamples(examples).setCanaryCorrect(correct)
                        .setCanaryAccuracy(examples == 0 ? 0 : (double) correct / examples)
                        .setOnlyFirstCorrect(test.b()).setOnlyThisCorrect(test.c())
                        .setZ(test.z()).setPValue(test.pValue()));
            }
            return out.build();
        });
    }

    /** Where a is strictly below b, element by element. */
    private static boolean[] lowerThan(double[] a, double[] b) {
        boolean[] out = new boolean[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i] < b[i];
        return out;
    }

    private static int count(boolean[] xs) {
        int n = 0;
        for (boolean x : xs) if (x) n++;
        return n;
    }

    private io.headgate.steer.Experiment requireExisting(String model, String name) {
        return registry.latest(model, name).orElseThrow(() ->
                Errors.notFound("name", "no experiment '" + name + "' for model '" + model + "'"));
    }

    /** Runs an admin operation, mapping the registry's exceptions. */
    private static <T> Uni<T> call(Callable<T> operation) {
        return Uni.createFrom().item(() -> {
            try {
                return operation.call();
            } catch (StatusRuntimeException e) {
                throw e;
            } catch (StaleRevisionException e) {
                throw Errors.status(Status.ABORTED, "expected_revision", e.getMessage());
            } catch (RegistryUnavailableException e) {
                throw Errors.unavailable(e);
            } catch (ProfileException e) {
                throw Errors.invalid(e.field(), e.getMessage());
            } catch (IOException e) {
                throw Errors.internal("the experiment store", e);
            } catch (Exception e) {
                throw Errors.internal("the request", e);
            }
        });
    }
}
