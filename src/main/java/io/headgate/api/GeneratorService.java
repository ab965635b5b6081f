package io.headgate.api;

import io.headgate.api.v1.GenerateEvent;
import io.headgate.api.v1.GenerateRequest;
import io.headgate.api.v1.Generator;
import io.headgate.engine.lm.Completion;
import io.headgate.engine.lm.TokenEvent;
import io.headgate.server.HeadgateConfig;
import io.headgate.server.ModelHost;
import io.headgate.steer.ExperimentRegistry;
import io.headgate.steer.SteeringResolver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import jakarta.inject.Inject;

/** {@code headgate.v1.Generator}: one bidirectional call per generation. */
@GrpcService
public class GeneratorService implements Generator {

    @Inject
    ModelHost models;
    @Inject
    SteeringResolver resolver;
    @Inject
    ExperimentRegistry experiments;
    @Inject
    HeadgateConfig config;

    @Override
    public Multi<GenerateEvent> generate(Multi<GenerateRequest> requests) {
        return StreamCall.<GenerateRequest, TokenEvent, Completion, GenerateEvent>serve(requests,
                emitter -> new GenerateCall(emitter, models, resolver, experiments, config));
    }
}
