package io.headgate.api;

import io.headgate.api.v1.DirectionHead;
import io.headgate.api.v1.DirectionsEvent;
import io.headgate.api.v1.DirectionsResult;
import io.headgate.api.v1.ScanProgress;
import io.headgate.discovery.HeadScan;
import io.headgate.discovery.directions.DirectionFinder;
import io.headgate.discovery.directions.DirectionsJob;
import io.headgate.discovery.directions.DirectionsReport;
import io.headgate.discovery.directions.HeadDirections;
import io.headgate.server.DiscoveryHost;
import io.headgate.steer.ProfileException;
import io.headgate.steer.ProfileValidator;
import io.smallrye.mutiny.subscription.MultiEmitter;
import org.jboss.logging.Logger;

import java.util.List;
import java.util.function.Supplier;

/**
 * One Directions call as a job on the model's discovery thread: progress at most once per percent,
 * then the result; the client going away cancels it between forward passes.
 */
final class DirectionsCall implements DiscoveryHost.Job {

    private static final Logger LOG = Logger.getLogger(DirectionsCall.class);
    /** The kinds Directions serves: it reads a language model's head outputs at the last prompt token. */
    static final List<String> SUPPORTED_KINDS = List.of("causal-lm");

    private final DirectionsJob job;
    private final float maxMagnitude;
    private final MultiEmitter<? super DirectionsEvent> emitter;
    private int percent = -1;

    /** {@code maxMagnitude}: the registry's bound on a bias component, which the suggested profile must keep to be saved. */
    DirectionsCall(DirectionsJob job, float maxMagnitude, MultiEmitter<? super DirectionsEvent> emitter) {
        this.job = job;
        this.maxMagnitude = maxMagnitude;
        this.emitter = emitter;
    }

    @Override
    public void run(Supplier<HeadScan> analysis) throws Exception {
        long t0 = System.nanoTime();
        HeadScan scan = analysis.get();
        DirectionsReport report = DirectionFinder.run(scan, job, this::progress, this::cancelled);
        try {
            ProfileValidator.validate(report.profile(), scan.dims(), maxMagnitude);
        } catch (ProfileException e) {
            throw new IllegalArgumentException("alpha: " + job.alpha() + " makes a bias the profile registry refuses (" + e.getMessage()
                    + "); ask for a smaller alpha");
        }
        LOG.infof("directions on %s: %d prompts in %.1f s", job.model(), job.contrast().positive().size() + job.contrast().negative().size(),
                (System.nanoTime() - t0) / 1e9);
        emitter.emit(DirectionsEvent.newBuilder().setResult(result(report)).build());
        emitter.complete();
    }

    private void progress(String phase, int done, int total) {
        int now = (int) (100L * done / total);
        if (now == percent && done < total) return;
        percent = now;
        emitter.emit(DirectionsEvent.newBuilder().setProgress(ScanProgress.newBuilder().setPhase(phase).setDone(done).setTotal(total)).build());
    }

    static DirectionsResult result(DirectionsReport r) {
        HeadDirections d = r.directions();
        DirectionsResult.Builder b = DirectionsResult.newBuilder().setLayers(d.layers()).setHeads(d.heads()).setHeadDim(d.headDim())
                .setTrainPositive(r.trainPositive()).setTrainNegative(r.trainNegative())
                .setValidationPositive(r.validationPositive()).setValidationNegative(r.validationNegative())
                .setProfile(ProtoMapping.spec(r.profile())).addAllSupportedKinds(SUPPORTED_KINDS);
        for (int h = 0; h < d.layers() * d.heads(); h++) {
            b.addSeparability(d.separability()[h]).addSpread(d.spread()[h]).addSeparation(d.separation()[h]);
        }
        for (int h : r.chosen()) b.addChosen(DirectionHead.newBuilder().setLayer(h / d.heads()).setHead(h % d.heads()));
        return b.build();
    }

    @Override
    public void failed(Throwable error) {
        emitter.fail(switch (error) {
            case DiscoveryHost.AnalysisUnavailable u -> Errors.precondition("model", u.getMessage());
            case IllegalArgumentException i when i.getMessage().startsWith("alpha: ") -> Errors.invalid("alpha", i.getMessage().substring(7));
            case IllegalArgumentException i -> Errors.invalid("contrast", i.getMessage());
            default -> Errors.internal("the directions run", error);
        });
    }

    @Override
    public boolean cancelled() {
        return emitter.isCancelled();
    }
}
