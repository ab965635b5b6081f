package io.headgate.api;

import io.headgate.server.ModelHost;
import io.headgate.steer.SteeringResolver;
import io.headgate.testing.counter.CounterOutput;
import io.headgate.testing.counter.CounterResult;
import io.headgate.testing.counter.v1.Counter;
import io.headgate.testing.counter.v1.CounterEvent;
import io.headgate.testing.counter.v1.CounterRequest;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import jakarta.inject.Inject;

/** The test kind's gRPC service, registered like the real ones. */
@GrpcService
public class CounterService implements Counter {

    @Inject
    ModelHost models;
    @Inject
    SteeringResolver resolver;

    @Override
    public Multi<CounterEvent> run(Multi<CounterRequest> requests) {
        return StreamCall.<CounterRequest, CounterOutput, CounterResult, CounterEvent>serve(requests, emitter -> new CounterCall(emitter, models, resolver));
    }
}
