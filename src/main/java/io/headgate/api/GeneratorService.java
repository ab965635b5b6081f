package io.headgate.api;

import io.headgate.api.v1.GenerateEvent;
import io.headgate.api.v1.GenerateRequest;
import io.headgate.api.v1.Generator;
import io.headgate.server.HeadgateConfig;
import io.headgate.server.ModelHost;
import io.headgate.steer.ExperimentRegistry;
import io.headgate.steer.SteeringResolver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.subscription.Cancellable;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
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

    /**
     * The stream's events are produced on its model's scheduler thread but handed to gRPC on the
     * call's own event loop. Vert.x writes a response's trailers with a void promise and, from any
     * other thread, queues that write onto the event loop; when the client's RST_STREAM (a cancel)
     * is read before the queued write runs, Netty finds the stream gone, the void promise fires the
     * failure down the pipeline and Vert.x answers it with GOAWAY(PROTOCOL_ERROR) "Request stream N
     * is not correct for server connection", closing the whole connection and every other stream on
     * it. On the event loop the reset is handled first (it cancels this Multi, so no trailers
     * follow) or the write completes first; the two never interleave.
     */
    @Override
    public Multi<GenerateEvent> generate(Multi<GenerateRequest> requests) {
        Context loop = Vertx.currentContext();
        Multi<GenerateEvent> events = Multi.createFrom().emitter(emitter -> {
            GenerateCall call = new GenerateCall(emitter, models, resolver, experiments, config);
            Cancellable inbound = requests.subscribe().with(call::onRequest, call::onRequestsFailed, call::onRequestsEnd);
            emitter.onTermination(() -> {
                call.onTermination();
                inbound.cancel();
            });
        });
        return loop == null ? events : events.emitOn(task -> loop.runOnContext(ignored -> task.run()));
    }
}
