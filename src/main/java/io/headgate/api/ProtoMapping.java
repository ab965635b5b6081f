package io.headgate.api;

import io.headgate.api.v1.Effect;
import io.headgate.api.v1.GenerateEvent;
import io.headgate.api.v1.Started;
import io.headgate.api.v1.SteeringApplied;
import io.headgate.api.v1.SteeringRejected;
import io.headgate.api.v1.SteeringTag;
import io.headgate.api.v1.Token;
import io.headgate.discovery.HeadTables;
import io.headgate.discovery.ScanReport;
import io.headgate.engine.StreamEvent;
import io.headgate.engine.lm.Completion;
import io.headgate.engine.lm.TokenEvent;
import io.headgate.steer.GuidanceSpec;
import io.headgate.steer.HeadBias;
import io.headgate.steer.HeadGain;
import io.headgate.steer.HeadMix;
import io.headgate.steer.Profile;
import io.headgate.steer.ProfileSpec;

import java.util.ArrayList;
import java.util.List;

/** Protobuf ↔ domain: the only place both kinds of type meet. */
final class ProtoMapping {
    private ProtoMapping() {
    }

    /** A language-model stream's event; {@code promptTokens} is the stream's prompt length. */
    static GenerateEvent event(StreamEvent<TokenEvent, Completion> e, int promptTokens) {
        GenerateEvent.Builder b = GenerateEvent.newBuilder();
        switch (e) {
            case StreamEvent.Output<TokenEvent, Completion>(TokenEvent t) -> {
                Token.Builder token = Token.newBuilder().setIndex(t.index()).setId(t.id()).setText(t.text())
                        .setLogprob(t.logprob()).setSteering(tag(t.steering()));
                if (t.effect() != null) token.setEffect(Effect.newBuilder().setKl(t.effect().kl()).setTop1Changed(t.effect().top1Changed()));
                b.setToken(token);
            }
            case StreamEvent.Started<TokenEvent, Completion> s -> b.setStarted(started(s).setPromptTokens(promptTokens));
            case StreamEvent.SteeringApplied<TokenEvent, Completion> a -> b.setSteeringApplied(steeringApplied(a));
            case StreamEvent.SteeringRejected<TokenEvent, Completion> r -> b.setSteeringRejected(steeringRejected(r));
            case StreamEvent.Finished<TokenEvent, Completion> f -> {
                String text = f.ending() instanceof StreamEvent.Ending.Completed<Completion>(Completion c) ? c.text() : "";
                b.setFinished(io.headgate.api.v1.Finished.newBuilder().setReason(reason(f.ending()))
                        .setPromptTokens(promptTokens).setCompletionTokens(f.summary().outputs())
                        .setQueueSeconds(f.summary().queueSeconds()).setTimeToFirstTokenSeconds(f.summary().firstOutputSeconds())
                        .setTotalSeconds(f.summary().totalSeconds()).setText(text));
            }
        }
        return b.build();
    }

    private static io.headgate.api.v1.Finished.Reason reason(StreamEvent.Ending<Completion> ending) {
        return switch (ending) {
            case StreamEvent.Ending.Completed<Completion>(Completion c) -> switch (c.reason()) {
                case EOS -> io.headgate.api.v1.Finished.Reason.EOS;
                case STOP -> io.headgate.api.v1.Finished.Reason.STOP;
                case MAX_TOKENS -> io.headgate.api.v1.Finished.Reason.MAX_TOKENS;
                case MAX_LENGTH -> io.headgate.api.v1.Finished.Reason.MAX_LENGTH;
            };
            case StreamEvent.Ending.Shutdown<Completion> x -> io.headgate.api.v1.Finished.Reason.SHUTDOWN;
            case StreamEvent.Ending.IdleTimeout<Completion> x -> io.headgate.api.v1.Finished.Reason.IDLE_TIMEOUT;
        };
    }

    /** What every kind's Started says: the stream, its model, steering, whether it follows a profile, its arm. */
    static Started.Builder started(StreamEvent.Started<?, ?> s) {
        return Started.newBuilder().setStreamId(s.streamId()).setModel(s.model()).setSteering(tag(s.steering())).setFollowing(s.following())
                .setArm(s.arm());
    }

    static SteeringApplied steeringApplied(StreamEvent.SteeringApplied<?, ?> a) {
        return SteeringApplied.newBuilder().setSteering(tag(a.steering())).setFromIndex(a.fromIndex())
                .setReprefilled(a.recomputed()).setReason(a.reason()).build();
    }

    static SteeringRejected steeringRejected(StreamEvent.SteeringRejected<?, ?> r) {
        return SteeringRejected.newBuilder().setField(r.field()).setReason(r.reason()).build();
    }

    static SteeringTag tag(io.headgate.steer.SteeringTag t) {
        return SteeringTag.newBuilder().setProfile(t.profile()).setRevision(t.revision()).build();
    }

    static ProfileSpec spec(io.headgate.api.v1.ProfileSpec p) {
        List<HeadGain> gains = new ArrayList<>();
        p.getGainsList().forEach(g -> gains.add(new HeadGain(g.getLayer(), g.getHead(), g.getGain())));
        List<HeadBias> biases = new ArrayList<>();
        p.getBiasesList().forEach(b -> {
            float[] v = new float[b.getVectorCount()];
            for (int i = 0; i < v.length; i++) v[i] = b.getVector(i);
            biases.add(new HeadBias(b.getLayer(), b.getHead(), v));
        });
        List<HeadMix> mixes = new ArrayList<>();
        p.getMixesList().forEach(m -> mixes.add(new HeadMix(m.getLayer(), m.getHead(), m.getMix())));
        return new ProfileSpec(p.getDescription(), gains, biases, mixes, p.hasGuidance() ? guidance(p.getGuidance()) : null);
    }

    static GuidanceSpec guidance(io.headgate.api.v1.Guidance g) {
        return new GuidanceSpec(g.hasCfgScale() ? g.getCfgScale() : null, g.hasPerturbationScale() ? g.getPerturbationScale() : null,
                g.hasAdaptiveScale() ? g.getAdaptiveScale() : null);
    }

    static io.headgate.api.v1.Guidance guidance(GuidanceSpec g) {
        var b = io.headgate.api.v1.Guidance.newBuilder();
        if (g.cfgScale() != null) b.setCfgScale(g.cfgScale());
        if (g.perturbationScale() != null) b.setPerturbationScale(g.perturbationScale());
        if (g.adaptiveScale() != null) b.setAdaptiveScale(g.adaptiveScale());
        return b.build();
    }

    static io.headgate.api.v1.ProfileSpec spec(ProfileSpec s) {
        var b = io.headgate.api.v1.ProfileSpec.newBuilder().setDescription(s.description());
        s.gains().forEach(g -> b.addGains(io.headgate.api.v1.HeadGain.newBuilder().setLayer(g.layer()).setHead(g.head()).setGain(g.gain())));
        s.biases().forEach(x -> {
            var hb = io.headgate.api.v1.HeadBias.newBuilder().setLayer(x.layer()).setHead(x.head());
            for (float f : x.vector()) hb.addVector(f);
            b.addBiases(hb);
        });
        s.mixes().forEach(m -> b.addMixes(io.headgate.api.v1.HeadMix.newBuilder().setLayer(m.layer()).setHead(m.head()).setMix(m.mix())));
        if (s.guidance() != null) b.setGuidance(guidance(s.guidance()));
        return b.build();
    }

    static io.headgate.api.v1.ScanEvent progress(String phase, int done, int total) {
        return io.headgate.api.v1.ScanEvent.newBuilder()
                .setProgress(io.headgate.api.v1.ScanProgress.newBuilder().setPhase(phase).setDone(done).setTotal(total)).build();
    }

    static io.headgate.api.v1.ScanEvent result(ScanReport r) {
        HeadTables t = r.tables();
        var b = io.headgate.api.v1.ScanResult.newBuilder().setScanId(r.scanId()).setLayers(t.layers()).setHeads(t.heads())
                .setExamples(t.examples()).setThresholds(r.thresholds()).setBaselineAccuracy(t.baselineAccuracy());
        for (int i = 0; i < t.layers() * t.heads(); i++) {
            b.addAttributionMean(t.attributionMean()[i]).addAttributionPositive(t.attributionPositive()[i])
                    .addAblationDeltaLogprob(t.ablationDeltaLogprob()[i]).addAblationDeltaAccuracy(t.ablationDeltaAccuracy()[i])
                    .addClasses(io.headgate.api.v1.HeadClass.valueOf(r.classes().get(i).name()));
        }
        return io.headgate.api.v1.ScanEvent.newBuilder().setResult(b).build();
    }

    static io.headgate.steer.ExperimentSpec experimentSpec(io.headgate.api.v1.ExperimentSpec p) {
        List<io.headgate.steer.Arm> arms = new ArrayList<>();
        for (io.headgate.api.v1.Arm a : p.getArmsList()) arms.add(new io.headgate.steer.Arm(a.getName(), a.getProfile(), a.getWeight()));
        return new io.headgate.steer.ExperimentSpec(p.getDescription(), arms);
    }

    static io.headgate.api.v1.Experiment experiment(io.headgate.steer.Experiment e) {
        io.headgate.api.v1.ExperimentSpec.Builder spec = io.headgate.api.v1.ExperimentSpec.newBuilder().setDescription(e.spec().description());
        for (io.headgate.steer.Arm a : e.spec().arms()) {
            spec.addArms(io.headgate.api.v1.Arm.newBuilder().setName(a.name()).setProfile(a.profile()).setWeight(a.weight()));
        }
        return io.headgate.api.v1.Experiment.newBuilder().setModel(e.model()).setName(e.name()).setRevision(e.revision())
                .setSpec(spec).setCreatedAt(e.createdAt().toString()).build();
    }

    static io.headgate.api.v1.Profile profile(Profile p) {
        return io.headgate.api.v1.Profile.newBuilder().setModel(p.model()).setName(p.name()).setRevision(p.revision())
                .setSpec(spec(p.spec())).setCreatedAt(p.createdAt().toString()).build();
    }
}
