package io.headgate.api;

import io.grpc.StatusRuntimeException;
import io.headgate.api.v1.LabelledExample;
import io.headgate.api.v1.ScanRequest;
import io.headgate.discovery.HeadClassifier;
import io.headgate.discovery.ScanExample;
import io.headgate.discovery.ScanExamples;
import io.headgate.discovery.ScanJob;
import io.headgate.effect.Probe;
import io.headgate.server.HeadgateConfig;
import io.headgate.server.lm.LmModel;
import io.headgate.steer.Steering;
import io.headgate.steer.SteeringResolver;

import java.util.ArrayList;
import java.util.List;

/** A ScanRequest → a ScanJob: steering resolved, examples tokenized and checked. Every refusal names the field. */
final class ScanRequests {

    private final LmModel model;
    private final SteeringResolver resolver;
    private final HeadgateConfig.Discovery limits;

    ScanRequests(LmModel model, SteeringResolver resolver, HeadgateConfig.Discovery limits) {
        this.model = model;
        this.resolver = resolver;
        this.limits = limits;
    }

    ScanJob job(ScanRequest r) {
        HeadClassifier classifier = DiscoveryService.classifier(r.getSoundThreshold(), limits.soundMargin());
        if (r.getLimit() > limits.maxExamples()) throw Errors.invalid("limit", r.getLimit() + " examples; a scan takes at most " + limits.maxExamples());
        Steering steering = r.hasSteering() ? steering(r.getSteering()) : resolver.identity(model.name(), model.manifest().dimensions());
        List<ScanExample> examples = switch (r.getExamplesCase()) {
            case BUILTIN -> builtin(r.getBuiltin(), r.getLimit());
            case INLINE -> inline(r.getInline().getExamplesList(), r.getLimit());
            case EXAMPLES_NOT_SET -> throw Errors.invalid("examples", "set builtin (one of " + ScanExamples.builtinSets(model.name()) + ") or inline");
        };
        String source = r.hasBuiltin() ? "builtin " + r.getBuiltin() : "inline examples";
        return new ScanJob(model.name(), source, examples, steering.row(), steering.tag().profile() + "@" + steering.tag().revision(), classifier);
    }

    private List<ScanExample> builtin(String set, int limit) {
        if (!ScanExamples.builtinSets(model.name()).contains(set)) {
            throw Errors.notFound("builtin", "no built-in set '" + set + "' for model '" + model.name() + "'; available: "
                    + (ScanExamples.builtinSets(model.name()).isEmpty() ? "none (send inline examples)" : ScanExamples.builtinSets(model.name())));
        }
        List<ScanExample> out = new ArrayList<>();
        for (Probe p : ScanExamples.builtin(model.name(), set, limit)) {
            out.add(example("builtin", p.group() + ": " + p.prompt(), p.prompt(), p.answer()));
        }
        return out.size() > limits.maxExamples() ? out.subList(0, limits.maxExamples()) : out;
    }

    private List<ScanExample> inline(List<LabelledExample> given, int limit) {
        if (given.isEmpty()) throw Errors.invalid("inline.examples", "empty");
        int n = limit == 0 ? given.size() : Math.min(limit, given.size());
        if (n > limits.maxExamples()) throw Errors.invalid("inline.examples", given.size() + " examples; a scan takes at most " + limits.maxExamples());
        if (model.tokenizer() == null) throw Errors.invalid("inline", "model '" + model.name() + "' has no tokenizer");
        List<ScanExample> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            LabelledExample e = given.get(i);
            String at = "inline.examples[" + i + "]";
            if (e.getPrompt().isEmpty()) throw Errors.invalid(at + ".prompt", "empty");
            if (e.getAnswer().isEmpty()) throw Errors.invalid(at + ".answer", "empty");
            out.add(example(at, at, e.getPrompt(), e.getAnswer()));
        }
        return out;
    }

    private ScanExample example(String field, String label, String prompt, String answer) {
        Requests.encodeWhole(model.tokenizer(), prompt + answer, field);
        ScanExample example;
        try {
            example = ScanExamples.teacherForced(label, prompt, answer, text -> model.tokenizer().encode(text));
        } catch (IllegalArgumentException e) {
            throw Errors.invalid(field + ".answer", e.getMessage());
        }
        int max = model.manifest().maxLength() - 1;
        if (example.prompt().length > max) {
            throw Errors.invalid(field + ".prompt", example.prompt().length + " tokens; model '" + model.name() + "' takes at most " + max);
        }
        return example;
    }

    private Steering steering(io.headgate.api.v1.Steering s) {
        var dims = model.manifest().dimensions();
        try {
            return switch (s.getSourceCase()) {
                case PROFILE -> {
                    if (s.getProfile().isEmpty()) throw Errors.invalid("steering.profile", "empty");
                    yield resolver.profile(model.name(), dims, s.getProfile());
                }
                case INLINE -> resolver.inline(ProtoMapping.spec(s.getInline()), dims, 1);
                case SOURCE_NOT_SET -> throw Errors.invalid("steering", "set profile or inline");
            };
        } catch (StatusRuntimeException e) {
            throw e;
        } catch (RuntimeException e) {
            throw Errors.ofProfile(e, s.getSourceCase() == io.headgate.api.v1.Steering.SourceCase.INLINE ? "steering.inline" : "steering");
        }
    }
}
