package io.headgate.api;

import io.headgate.api.v1.GenerateEvent;
import io.headgate.api.v1.GenerateRequest;
import io.headgate.api.v1.Start;
import io.headgate.engine.StreamEvent;
import io.headgate.engine.lm.Completion;
import io.headgate.engine.lm.LmRequest;
import io.headgate.engine.lm.LmState;
import io.headgate.engine.lm.SamplingParams;
import io.headgate.engine.lm.TokenEvent;
import io.headgate.model.BundleManifest;
import io.headgate.server.HeadgateConfig;
import io.headgate.server.ModelHost;
import io.headgate.server.lm.LmModel;
import io.headgate.steer.ExperimentRegistry;
import io.headgate.steer.SteeringResolver;
import io.smallrye.mutiny.subscription.MultiEmitter;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One Generate call on a language model: validates Start into an {@link LmRequest}, resolves
 * steering (a profile, inline controls or an experiment's arm) and maps token events to protobuf.
 * The call's ordering, cancellation and fault handling are {@link StreamCall}'s.
 */
final class GenerateCall extends StreamCall<GenerateRequest, LmState, Void, TokenEvent, Completion, GenerateEvent> {

    private final ModelHost models;
    private final SteeringResolver resolver;
    private final ExperimentRegistry experiments;
    private final HeadgateConfig.Engine limits;
    private final double shadowFraction;

    private volatile LmModel model;
    private volatile int promptTokens;

    GenerateCall(MultiEmitter<? super StreamEvent<TokenEvent, Completion>> emitter, ModelHost models, SteeringResolver resolver,
                 ExperimentRegistry experiments, HeadgateConfig config) {
        super(emitter);
        this.models = models;
        this.resolver = resolver;
        this.experiments = experiments;
        this.limits = config.engine();
        this.shadowFraction = config.effect().shadowFraction();
    }

    @Override
    void dispatch(GenerateRequest request) {
        switch (request.getKindCase()) {
            case START -> {
                begin();
                start(request.getStart());
            }
            case STEER -> {
                requireStarted("steer");
                steer(request.getSteer(), resolver, model.manifest(), null);
            }
            case ACK -> {
                requireStarted("ack");
                ack(request.getAck().getConsumed());
            }
            case KIND_NOT_SET -> throw Errors.invalid("request", "set one of start, steer or ack");
        }
    }

    @Override
    GenerateEvent map(StreamEvent<TokenEvent, Completion> event) {
        return ProtoMapping.event(event, promptTokens);
    }

    // ------------------------------------------------------------------ Start

    private void start(Start s) {
        model = Requests.readyModel(models, s.getModel(), "start.model", LmModel.class, "Generator.Generate");
        BundleManifest m = model.manifest();
        long[] prompt = prompt(s, m);
        long askedTokens = Integer.toUnsignedLong(s.getMaxTokens()); // uint32: Java's int wraps above 2^31 - 1
        if (askedTokens > limits.maxTokensLimit()) {
            throw Errors.invalid("start.max_tokens", askedTokens + " exceeds the limit of " + limits.maxTokensLimit());
        }
        int maxTokens = askedTokens == 0 ? limits.defaultMaxTokens() : (int) askedTokens;
        List<String> stops = stops(s);
        SamplingParams sampling = sampling(s);
        Requests.Assigned assigned = Requests.startSteering(resolver, experiments, m, s.getExperiment(), s.getRoutingKey(),
                s.hasSteering() ? s.getSteering() : null, inlineNumber(s.getSteering()));
        LmState state;
        try {
            state = model.workload().open(new LmRequest(prompt, sampling, maxTokens, stops, s.getIgnoreEos(), shadow(s)));
        } catch (IllegalArgumentException e) {
            throw Errors.invalid("start.prompt", e.getMessage());
        }
        promptTokens = prompt.length;
        submitted(model.scheduler(), model.scheduler().submit(state, assigned.steering(), s.getCreditWindow(), assigned.arm(), this));
    }

    /** Asked for: measured and reported on every token; else a sampled fraction measured for metrics only. */
    private LmRequest.Shadow shadow(Start s) {
        if (s.getShadow()) return LmRequest.Shadow.REPORTED;
        return ThreadLocalRandom.current().nextDouble() < shadowFraction ? LmRequest.Shadow.METRICS : LmRequest.Shadow.NONE;
    }

    private long[] prompt(Start s, BundleManifest m) {
        long[] ids = switch (s.getPromptCase()) {
            case TEXT -> {
                if (s.getText().isEmpty()) throw Errors.invalid("start.prompt.text", "empty");
                if (model.tokenizer() == null) throw Errors.invalid("start.prompt.text", "model '" + m.name() + "' has no tokenizer; send token_ids");
                yield Requests.encodeWhole(model.tokenizer(), s.getText(), "start.prompt.text");
            }
            case TOKEN_IDS -> {
                List<Long> list = s.getTokenIds().getIdsList();
                if (list.isEmpty()) throw Errors.invalid("start.prompt.token_ids", "empty");
                long[] out = new long[list.size()];
                for (int i = 0; i < out.length; i++) {
                    out[i] = list.get(i);
                    if (out[i] < 0 || out[i] >= m.dimensions().vocabSize()) {
                        throw Errors.invalid("start.prompt.token_ids[" + i + "]", out[i] + " is outside the vocabulary 0.." + (m.dimensions().vocabSize() - 1));
                    }
                }
                yield out;
            }
            case PROMPT_NOT_SET -> throw Errors.invalid("start.prompt", "set text or token_ids");
        };
        int limit = Math.min(limits.maxPromptTokens(), m.maxLength() - 1);
        if (ids.length > limit) {
            throw Errors.invalid("start.prompt", ids.length + " tokens; model '" + m.name() + "' accepts at most " + limit);
        }
        return ids;
    }

    /**
     * A tokenizer without an unknown token silently drops characters it cannot encode; refuse such
     * a prompt rather than generate from a different one. Whitespace is ignored: tokenizers may
     * normalise it.
     */
    private List<String> stops(Start s) {
        if (s.getStopCount() > limits.maxStopStrings()) {
            throw Errors.invalid("start.stop", s.getStopCount() + " stop strings; at most " + limits.maxStopStrings());
        }
        for (int i = 0; i < s.getStopCount(); i++) {
            String stop = s.getStop(i);
            if (stop.isEmpty()) throw Errors.invalid("start.stop[" + i + "]", "empty");
            if (stop.length() > limits.maxStopLength()) throw Errors.invalid("start.stop[" + i + "]", "longer than " + limits.maxStopLength() + " characters");
        }
        return s.getStopList();
    }

    private static SamplingParams sampling(Start s) {
        if (!s.hasSampling()) return SamplingParams.greedy();
        var p = s.getSampling();
        if (!Float.isFinite(p.getTemperature()) || p.getTemperature() < 0) {
            throw Errors.invalid("start.sampling.temperature", "must be finite and >= 0, got " + p.getTemperature());
        }
        if (!(p.getTopP() >= 0 && p.getTopP() <= 1)) throw Errors.invalid("start.sampling.top_p", "must be in [0, 1], got " + p.getTopP());
        long seed = p.hasSeed() ? p.getSeed() : ThreadLocalRandom.current().nextLong();
        return new SamplingParams(p.getTemperature(), p.getTopK(), p.getTopP(), seed);
    }
}
