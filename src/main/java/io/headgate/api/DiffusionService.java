package io.headgate.api;

import io.headgate.api.v1.Diffusion;
import io.headgate.api.v1.DiffusionEvent;
import io.headgate.api.v1.DiffusionRequest;
import io.headgate.engine.diffusion.DenoisingStep;
import io.headgate.engine.diffusion.DiffusionResult;
import io.headgate.server.ModelHost;
import io.headgate.steer.ExperimentRegistry;
import io.headgate.steer.SteeringResolver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import jakarta.inject.Inject;

/** {@code headgate.v1.Diffusion}: one bidirectional call per image. */
@GrpcService
public class DiffusionService implements Diffusion {

    @Inject
    ModelHost models;
    @Inject
    SteeringResolver resolver;
    @Inject
    ExperimentRegistry experiments;

    @Override
    public Multi<DiffusionEvent> generate(Multi<DiffusionRequest> requests) {
        return StreamCall.<DiffusionRequest, DenoisingStep, DiffusionResult, DiffusionEvent>serve(requests,
                emitter -> new DiffusionCall(emitter, models, resolver, experiments));
    }
}
