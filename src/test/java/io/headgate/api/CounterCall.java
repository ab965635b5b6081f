package io.headgate.api;

import io.grpc.StatusRuntimeException;
import io.headgate.api.v1.HeadGain;
import io.headgate.api.v1.ProfileSpec;
import io.headgate.engine.StreamEvent;
import io.headgate.server.ModelHost;
import io.headgate.steer.Steering;
import io.headgate.steer.SteeringResolver;
import io.headgate.testing.counter.CounterModel;
import io.headgate.testing.counter.CounterOutput;
import io.headgate.testing.counter.CounterResult;
import io.headgate.testing.counter.CounterState;
import io.headgate.testing.counter.v1.CounterDone;
import io.headgate.testing.counter.v1.CounterEvent;
import io.headgate.testing.counter.v1.CounterRequest;
import io.headgate.testing.counter.v1.CounterStart;
import io.headgate.testing.counter.v1.CounterStep;
import io.smallrye.mutiny.subscription.MultiEmitter;

/** The test kind's call: as thin as a real kind's, on the same {@link StreamCall}. */
final class CounterCall extends StreamCall<CounterRequest, CounterState, Long, CounterOutput, CounterResult, CounterEvent> {

    private final ModelHost models;
    private final SteeringResolver resolver;
    private CounterModel model;
    private long inline;

    CounterCall(MultiEmitter<? super StreamEvent<CounterOutput, CounterResult>> emitter, ModelHost models, SteeringResolver resolver) {
        super(emitter);
        this.models = models;
        this.resolver = resolver;
    }

    @Override
    void dispatch(CounterRequest request) {
        switch (request.getKindCase()) {
            case START -> {
                begin();
                start(request.getStart());
            }
            case STEER -> {
                requireStarted("steer");
                var s = request.getSteer();
                io.headgate.api.v1.Steering proto = s.getProfile().isEmpty()
                        ? io.headgate.api.v1.Steering.newBuilder().setInline(ProfileSpec.newBuilder()
                        .addGains(HeadGain.newBuilder().setLayer(-1).setHead(-1).setGain(s.getGain()))).build()
                        : io.headgate.api.v1.Steering.newBuilder().setProfile(s.getProfile()).build();
                try {
                    steer(Requests.steering(resolver, model.manifest(), proto, "steer", ++inline), false);
                } catch (StatusRuntimeException e) {
                    rejectSteering(e, "steer");
                }
            }
            case ACK -> {
                requireStarted("ack");
                ack(request.getAck().getConsumed());
            }
            case ADD -> {
                requireStarted("add");
                deliver(request.getAdd().getDelta());
            }
            case KIND_NOT_SET -> throw Errors.invalid("request", "set one of start, steer, ack or add");
        }
    }

    private void start(CounterStart s) {
        model = Requests.readyModel(models, s.getModel(), "start.model", CounterModel.class, "Counter.Run");
        CounterState state;
        try {
            state = new CounterState(s.getRows(), s.getSteps(), s.getStepsOnMessage());
        } catch (IllegalArgumentException e) {
            throw Errors.invalid("start", e.getMessage());
        }
        switch (s.getFail()) {
            case "" -> {
            }
            case "admit" -> state.failingAdmission();
            case "outputs" -> state.failingOutputsAt(1);
            case "forward" -> state.poisoningItsForwardPass();
            default -> throw Errors.invalid("start.fail", "one of admit, outputs, forward");
        }
        Steering steering = s.getProfile().isEmpty() ? resolver.identity(model.name(), model.manifest().dimensions())
                : Requests.steering(resolver, model.manifest(), io.headgate.api.v1.Steering.newBuilder().setProfile(s.getProfile()).build(),
                "start.profile", 0);
        submitted(model.scheduler(), model.scheduler().submit(state, steering, s.getCreditWindow(), this));
    }

    @Override
    CounterEvent map(StreamEvent<CounterOutput, CounterResult> event) {
        CounterEvent.Builder b = CounterEvent.newBuilder();
        switch (event) {
            case StreamEvent.Started<CounterOutput, CounterResult> s -> b.setStarted(s.streamId());
            case StreamEvent.Output<CounterOutput, CounterResult>(CounterOutput o) -> {
                CounterStep.Builder step = CounterStep.newBuilder().setIndex(o.index()).setCounter(o.counter()).setProfile(o.steering().profile());
                for (double v : o.rowValues()) step.addRowValues(v);
                b.setStep(step);
            }
            case StreamEvent.SteeringApplied<CounterOutput, CounterResult> a -> b.setAppliedFrom(a.fromIndex());
            case StreamEvent.SteeringRejected<CounterOutput, CounterResult> r -> b.setRejected(r.field());
            case StreamEvent.Finished<CounterOutput, CounterResult> f -> {
                CounterDone.Builder done = CounterDone.newBuilder().setOutputs(f.summary().outputs());
                switch (f.ending()) {
                    case StreamEvent.Ending.Completed<CounterResult>(CounterResult r) -> done.setReason("completed").setCounter(r.counter());
                    case StreamEvent.Ending.Shutdown<CounterResult> x -> done.setReason("shutdown");
                    case StreamEvent.Ending.IdleTimeout<CounterResult> x -> done.setReason("idle");
                }
                b.setDone(done);
            }
        }
        return b.build();
    }
}
