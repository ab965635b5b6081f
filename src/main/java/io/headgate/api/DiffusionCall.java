package io.headgate.api;

import io.headgate.api.v1.AppliedGuidance;
import io.headgate.api.v1.DenoisingStep;
import io.headgate.api.v1.DiffusionEvent;
import io.headgate.api.v1.DiffusionFinished;
import io.headgate.api.v1.DiffusionRequest;
import io.headgate.api.v1.DiffusionStart;
import io.headgate.api.v1.Image;
import io.headgate.api.v1.Preview;
import io.headgate.engine.StreamEvent;
import io.headgate.engine.diffusion.DiffusionResult;
import io.headgate.engine.diffusion.DiffusionState;
import io.headgate.engine.diffusion.ImagePng;
import io.headgate.model.BundleManifest;
import io.headgate.server.ModelHost;
import io.headgate.server.diffusion.DiffusionModel;
import io.headgate.steer.ExperimentRegistry;
import io.headgate.steer.GuidanceSpec;
import io.headgate.steer.ProfileException;
import io.headgate.steer.SteeringResolver;
import io.smallrye.mutiny.subscription.MultiEmitter;

import java.util.concurrent.ThreadLocalRandom;

/**
 * One Diffusion.Generate call: validates the Start into a {@link io.headgate.engine.diffusion.DiffusionRequest},
 * resolves steering (a profile, inline controls or an experiment's arm) and maps denoising steps to
 * protobuf, encoding previews and the final image on the call's event loop, never on the scheduler's
 * thread. Ordering, cancellation and faults are {@link StreamCall}'s.
 */
final class DiffusionCall extends StreamCall<DiffusionRequest, DiffusionState, Void, io.headgate.engine.diffusion.DenoisingStep,
        DiffusionResult, DiffusionEvent> {

    /** The largest preview scale: an 8×8 digit becomes 512×512. */
    static final int MAX_PREVIEW_SCALE = 64;

    private final ModelHost models;
    private final SteeringResolver resolver;
    private final ExperimentRegistry experiments;
    private volatile DiffusionModel model;
    private volatile Preview preview = Preview.getDefaultInstance();

    DiffusionCall(MultiEmitter<? super StreamEvent<io.headgate.engine.diffusion.DenoisingStep, DiffusionResult>> emitter, ModelHost models,
                  SteeringResolver resolver, ExperimentRegistry experiments) {
        super(emitter);
        this.models = models;
        this.resolver = resolver;
        this.experiments = experiments;
    }

    @Override
    void dispatch(DiffusionRequest request) {
        switch (request.getKindCase()) {
            case START -> {
                begin();
                start(request.getStart());
            }
            case STEER -> {
                requireStarted("steer");
                steer(request.getSteer(), resolver, model.manifest(), "a denoising step caches nothing to recompute");
            }
            case ACK -> {
                requireStarted("ack");
                ack(request.getAck().getConsumed());
            }
            case KIND_NOT_SET -> throw Errors.invalid("request", "set one of start, steer or ack");
        }
    }

    private void start(DiffusionStart s) {
        model = Requests.readyModel(models, s.getModel(), "start.model", DiffusionModel.class, "Diffusion.Generate");
        BundleManifest m = model.manifest();
        BundleManifest.Diffusion spec = m.diffusion();
        long label = switch (s.getConditionCase()) {
            case LABEL -> {
                long l = Integer.toUnsignedLong(s.getLabel());
                if (l >= spec.classes()) throw Errors.invalid("start.label", l + " is not a class of model '" + m.name() + "': 0.." + (spec.classes() - 1));
                yield l;
            }
            case UNCONDITIONAL -> {
                if (!s.getUnconditional()) throw Errors.invalid("start.unconditional", "set it true, or set label");
                yield spec.nullLabel();
            }
            case CONDITION_NOT_SET -> throw Errors.invalid("start.condition", "set label (0.." + (spec.classes() - 1) + ") or unconditional");
        };
        long steps = Integer.toUnsignedLong(s.getSteps());
        if (steps > spec.maxSteps()) throw Errors.invalid("start.steps", steps + " exceeds the model's maximum of " + spec.maxSteps());
        GuidanceSpec guidance = null;
        if (s.hasGuidance()) {
            guidance = ProtoMapping.guidance(s.getGuidance());
            try {
                guidance.validate("start.guidance");
            } catch (ProfileException e) {
                throw Errors.invalid(e.field(), e.getMessage());
            }
        }
        Preview p = s.getPreview();
        long scale = Integer.toUnsignedLong(p.getScale());
        if (scale > MAX_PREVIEW_SCALE || Math.max(spec.height(), spec.width()) * Math.max(1, scale) > ImagePng.MAX_SIDE) {
            throw Errors.invalid("start.preview.scale", scale + " is out of range; allowed: 1 to " + MAX_PREVIEW_SCALE);
        }
        if (p.getSourceValue() < 0 || p.getSource() == Preview.Source.UNRECOGNIZED) throw Errors.invalid("start.preview.source", "unknown value " + p.getSourceValue());
        if (p.getFormat() == Preview.Format.UNRECOGNIZED) throw Errors.invalid("start.preview.format", "unknown value " + p.getFormatValue());
        preview = p;
        long every = Integer.toUnsignedLong(p.getEvery());
        long seed = s.hasSeed() ? s.getSeed() : ThreadLocalRandom.current().nextLong();
        Requests.Assigned assigned = Requests.startSteering(resolver, experiments, m, s.getExperiment(), s.getRoutingKey(),
                s.hasSteering() ? s.getSteering() : null, inlineNumber(s.getSteering()));
        DiffusionState state;
        try {
            state = model.workload().open(new io.headgate.engine.diffusion.DiffusionRequest(label, seed,
                    steps == 0 ? spec.defaultSteps() : (int) steps, guidance, (int) Math.min(every, Integer.MAX_VALUE),
                    p.getSource() == Preview.Source.X0_ESTIMATE));
        } catch (IllegalArgumentException e) {
            throw Errors.invalid("start", e.getMessage());
        }
        submitted(model.scheduler(), model.scheduler().submit(state, assigned.steering(), s.getCreditWindow(), assigned.arm(), this));
    }

    @Override
    DiffusionEvent map(StreamEvent<io.headgate.engine.diffusion.DenoisingStep, DiffusionResult> event) {
        DiffusionEvent.Builder b = DiffusionEvent.newBuilder();
        switch (event) {
            case StreamEvent.Started<io.headgate.engine.diffusion.DenoisingStep, DiffusionResult> s -> b.setStarted(ProtoMapping.started(s));
            case StreamEvent.Output<io.headgate.engine.diffusion.DenoisingStep, DiffusionResult>(var step) -> b.setStep(step(step));
            case StreamEvent.SteeringApplied<io.headgate.engine.diffusion.DenoisingStep, DiffusionResult> a -> b.setSteeringApplied(ProtoMapping.steeringApplied(a));
            case StreamEvent.SteeringRejected<io.headgate.engine.diffusion.DenoisingStep, DiffusionResult> r -> b.setSteeringRejected(ProtoMapping.steeringRejected(r));
            case StreamEvent.Finished<io.headgate.engine.diffusion.DenoisingStep, DiffusionResult> f -> b.setFinished(finished(f));
        }
        return b.build();
    }

    private DenoisingStep step(io.headgate.engine.diffusion.DenoisingStep s) {
        DenoisingStep.Builder b = DenoisingStep.newBuilder().setIndex(s.index()).setTotal(s.total()).setT((float) s.t()).setTNext((float) s.tNext())
                .setGuidance(AppliedGuidance.newBuilder().setCfgScale((float) s.guidance().cfgScale())
                        .setPerturbationScale((float) s.guidance().perturbationScale()).setAdaptiveScale((float) s.guidance().adaptiveScale()))
                .setSteering(ProtoMapping.tag(s.steering())).setRows(s.rows());
        if (s.preview() != null) b.setPreview(image(s.preview().values(), s.preview().x0() ? "x0" : "x_t", preview.getFormat(), preview.getScale()));
        return b.build();
    }

    private DiffusionFinished finished(StreamEvent.Finished<io.headgate.engine.diffusion.DenoisingStep, DiffusionResult> f) {
        DiffusionFinished.Builder b = DiffusionFinished.newBuilder().setSteps(f.summary().outputs()).setQueueSeconds(f.summary().queueSeconds())
                .setTimeToFirstStepSeconds(f.summary().firstOutputSeconds()).setTotalSeconds(f.summary().totalSeconds());
        switch (f.ending()) {
            case StreamEvent.Ending.Completed<DiffusionResult>(DiffusionResult r) -> b.setReason(DiffusionFinished.Reason.COMPLETED)
                    .setImage(image(r.image(), "image", Preview.Format.PNG_AND_RAW, preview.getScale())).setSeed(r.seed());
            case StreamEvent.Ending.Shutdown<DiffusionResult> x -> b.setReason(DiffusionFinished.Reason.SHUTDOWN);
            case StreamEvent.Ending.IdleTimeout<DiffusionResult> x -> b.setReason(DiffusionFinished.Reason.IDLE_TIMEOUT);
        }
        return b.build();
    }

    private Image image(float[] values, String source, Preview.Format format, int scale) {
        BundleManifest.Diffusion d = model.manifest().diffusion();
        Image.Builder b = Image.newBuilder().setChannels(d.channels()).setHeight(d.height()).setWidth(d.width()).setSource(source);
        if (format != Preview.Format.RAW) {
            b.setPng(com.google.protobuf.ByteString.copyFrom(ImagePng.encode(values, 0, d.channels(), d.height(), d.width(),
                    d.pixelMin(), d.pixelMax(), Math.max(1, scale))));
        }
        if (format != Preview.Format.PNG) for (float v : values) b.addValues(v);
        return b.build();
    }
}
