package io.headgate.api;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.headgate.api.v1.Steering;
import io.headgate.model.BundleManifest;
import io.headgate.server.LoadedModel;
import io.headgate.server.ModelHost;
import io.headgate.engine.Scheduler;
import io.headgate.steer.Arm;
import io.headgate.steer.ArmAssignment;
import io.headgate.steer.Experiment;
import io.headgate.steer.ExperimentRegistry;
import io.headgate.steer.SteeringResolver;

/** What several services resolve the same way from a request: the model it names, the steering it asks for. */
final class Requests {
    private Requests() {
    }

    /** The loaded model named in {@code field}; NOT_FOUND if unknown, UNAVAILABLE while loading or after a failed load. */
    static LoadedModel readyModel(ModelHost models, String name, String field) {
        String available = "available: " + String.join(", ", models.entries().keySet());
        if (name.isEmpty()) throw Errors.invalid(field, "required; " + available);
        ModelHost.Entry e = models.entry(name);
        if (e == null) throw Errors.notFound(field, "no model " + Errors.quote(name) + "; " + available);
        return switch (e.state()) {
            case READY -> e.model();
            case LOADING -> throw Errors.status(Status.UNAVAILABLE, field, "model '" + name + "' is still loading; retry shortly");
            case FAILED -> throw Errors.status(Status.UNAVAILABLE, field, "model '" + name + "' failed to load: " + e.error());
        };
    }

    /** A stream's steering at Start and the A/B arm it was assigned ({@link Scheduler#NO_ARM} outside experiments). */
    record Assigned(io.headgate.steer.Steering steering, String arm) {
    }

    /**
     * The steering a Start asks for: an experiment's arm (sticky per routing key; the choice is made
     * once, so a running stream keeps its arm and that arm's steering when the experiment changes),
     * else {@code requested} (null: the built-in identity). Errors name the Start's fields.
     */
    static Assigned startSteering(SteeringResolver resolver, ExperimentRegistry experiments, BundleManifest m, String experiment,
                                  String routingKey, Steering requested, long inlineNumber) {
        if (experiment.isEmpty()) {
            if (!routingKey.isEmpty()) throw Errors.invalid("start.routing_key", "only used with start.experiment");
            return new Assigned(requested == null ? resolver.identity(m.name(), m.dimensions())
                    : steering(resolver, m, requested, "start.steering", inlineNumber), Scheduler.NO_ARM);
        }
        if (requested != null) throw Errors.invalid("start.experiment", "set experiment or steering, not both");
        Experiment e = experiments.latest(m.name(), experiment).orElseThrow(() -> Errors.notFound("start.experiment",
                "no experiment '" + experiment + "' for model '" + m.name() + "'"));
        Arm arm = ArmAssignment.choose(e, routingKey);
        try {
            return new Assigned(resolver.profile(m.name(), m.dimensions(), arm.profile()), arm.name());
        } catch (RuntimeException ex) { // a profile deleted since the experiment was written fails the Start
            StatusRuntimeException mapped = Errors.ofProfile(ex, "");
            throw Errors.status(mapped.getStatus(), "start.experiment",
                    "arm '" + arm.name() + "' profile '" + arm.profile() + "': " + mapped.getStatus().getDescription());
        }
    }

    /** Guidance scales steer diffusion models only. */
    static void guidanceAllowed(BundleManifest m, String field) {
        if (!BundleManifest.DIFFUSION.equals(m.kind())) {
            throw Errors.invalid(field, "model '" + m.name() + "' is a " + m.kind() + " model; guidance scales steer diffusion models only");
        }
    }

    /**
     * The loaded model named in {@code field}, which must be of the kind {@code rpc} serves: a model
     * of another kind is INVALID_ARGUMENT naming the RPC that serves it.
     */
    static <T extends LoadedModel> T readyModel(ModelHost models, String name, String field, Class<T> kind, String rpc) {
        LoadedModel m = readyModel(models, name, field);
        if (!kind.isInstance(m)) {
            throw Errors.invalid(field, "model '" + name + "' is a " + m.manifest().kind() + " model, which " + rpc + " does not serve");
        }
        return kind.cast(m);
    }

    /**
     * Resolves a Steering message found at {@code field}; errors name the field inside it.
     * {@code inlineNumber} numbers inline steering (per stream for Generate).
     */
    static io.headgate.steer.Steering steering(SteeringResolver resolver, BundleManifest m, Steering s, String field, long inlineNumber) {
        try {
            return switch (s.getSourceCase()) {
                case PROFILE -> {
                    if (s.getProfile().isEmpty()) throw Errors.invalid(field + ".profile", "empty");
                    yield resolver.profile(m.name(), m.dimensions(), s.getProfile());
                }
                case INLINE -> {
                    if (s.getInline().hasGuidance()) guidanceAllowed(m, field + ".inline.guidance");
                    yield resolver.inline(ProtoMapping.spec(s.getInline()), m.dimensions(), inlineNumber);
                }
                case SOURCE_NOT_SET -> throw Errors.invalid(field, "set profile or inline");
            };
        } catch (StatusRuntimeException e) {
            throw e;
        } catch (RuntimeException e) {
            throw Errors.ofProfile(e, s.getSourceCase() == Steering.SourceCase.INLINE ? field + ".inline" : field);
        }
    }

    /**
     * {@code text} encoded by the model's tokenizer, refused naming {@code field} when the encoding
     * lost characters: a tokenizer without an unknown token drops what it cannot encode, and the model
     * would read other text than was sent. Whitespace is not compared (the decoder may normalise it).
     */
    static long[] encodeWhole(io.headgate.server.lm.Tokenizer tokenizer, String text, String field) {
        long[] ids = tokenizer.encode(text);
        String wanted = text.replaceAll("\\s+", ""), got = tokenizer.decode(ids).replaceAll("\\s+", "");
        if (wanted.equals(got)) return ids;
        StringBuilder missing = new StringBuilder();
        wanted.codePoints().filter(c -> got.indexOf(c) < 0 && missing.indexOf(Character.toString(c)) < 0).forEach(missing::appendCodePoint);
        throw Errors.invalid(field, "the tokenizer cannot encode " + (missing.isEmpty() ? "part of '" + text + "'" : "'" + missing + "'"));
    }
}
