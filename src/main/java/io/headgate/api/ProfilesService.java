package io.headgate.api;

import io.headgate.api.v1.DeleteProfileRequest;
import io.headgate.api.v1.DeleteProfileResponse;
import io.headgate.api.v1.GetProfileRequest;
import io.headgate.api.v1.ListProfilesRequest;
import io.headgate.api.v1.ListProfilesResponse;
import io.headgate.api.v1.Profile;
import io.headgate.api.v1.Profiles;
import io.headgate.api.v1.PutProfileRequest;
import io.headgate.server.LoadedModel;
import io.headgate.server.ModelHost;
import io.headgate.steer.ProfileRegistry;
import io.headgate.steer.ProfileSpec;
import io.headgate.steer.ProfileValidator;
import io.headgate.steer.SteeringResolver;
import io.quarkus.grpc.GrpcService;
import io.quarkus.grpc.RegisterInterceptor;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;

import java.io.IOException;
import java.util.concurrent.Callable;

/** {@code headgate.v1.Profiles} (admin): versioned profiles, validated against the model they steer. */
@GrpcService
@Blocking
@RegisterInterceptor(AdminAuth.class)
public class ProfilesService implements Profiles {

    @Inject
    ProfileRegistry registry;
    @Inject
    ModelHost models;
    @Inject
    SteeringResolver resolver;

    @Override
    public Uni<Profile> put(PutProfileRequest r) {
        return call(() -> {
            LoadedModel m = servedModel(r.getModel());
            if (r.getName().equals(SteeringResolver.IDENTITY)) throw Errors.invalid("name", "'identity' is built in and cannot be changed");
            ProfileValidator.validateName(r.getName());
            if (!r.hasSpec()) throw Errors.invalid("spec", "required");
            ProfileSpec spec = ProtoMapping.spec(r.getSpec());
            if (spec.guidance() != null) Requests.guidanceAllowed(m.manifest(), "spec.guidance");
            ProfileValidator.validate(spec, m.manifest().dimensions(), resolver.maxMagnitude());
            return ProtoMapping.profile(registry.put(r.getModel(), r.getName(), spec, r.getExpectedRevision()));
        }, "spec");
    }

    @Override
    public Uni<Profile> get(GetProfileRequest r) {
        return call(() -> {
            var found = r.getRevision() == 0 ? registry.latest(r.getModel(), r.getName())
                    : registry.revision(r.getModel(), r.getName(), r.getRevision());
            return ProtoMapping.profile(found.orElseThrow(() -> Errors.notFound("name", "no profile '" + r.getName() + "'"
                    + (r.getRevision() == 0 ? "" : " at revision " + r.getRevision()) + " for model '" + r.getModel() + "'")));
        }, "");
    }

    @Override
    public Uni<ListProfilesResponse> list(ListProfilesRequest r) {
        return call(() -> {
            ListProfilesResponse.Builder b = ListProfilesResponse.newBuilder();
            registry.list(r.getModel()).forEach(p -> b.addProfiles(ProtoMapping.profile(p)));
            return b.build();
        }, "");
    }

    @Override
    public Uni<DeleteProfileResponse> delete(DeleteProfileRequest r) {
        return call(() -> DeleteProfileResponse.newBuilder()
                .setRevision(registry.delete(r.getModel(), r.getName(), r.getExpectedRevision())).build(), "");
    }

    /** Profiles are validated against the dimensions of a loaded model. */
    private LoadedModel servedModel(String model) {
        return Requests.readyModel(models, model, "model");
    }

    /** Runs an admin operation, mapping the registry's exceptions (spec field paths get {@code specPrefix}). */
    private static <T> Uni<T> call(Callable<T> operation, String specPrefix) {
        return Uni.createFrom().item(() -> {
            try {
                return operation.call();
            } catch (io.grpc.StatusRuntimeException e) {
                throw e;
            } catch (io.headgate.steer.ProfileException e) {
                boolean specField = e.field().startsWith("gains") || e.field().startsWith("biases") || e.field().startsWith("mixes");
                throw Errors.invalid(specField ? Errors.join(specPrefix, e.field()) : e.field(), e.getMessage());
            } catch (RuntimeException e) {
                throw Errors.ofProfile(e, "");
            } catch (IOException e) {
                throw Errors.internal("the profile store", e);
            } catch (Exception e) {
                throw Errors.internal("the request", e);
            }
        });
    }
}
