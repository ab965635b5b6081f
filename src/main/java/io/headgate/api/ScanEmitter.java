package io.headgate.api;

import io.grpc.Status;
import io.headgate.api.v1.ScanEvent;
import io.headgate.discovery.ScanListener;
import io.headgate.discovery.ScanReport;
import io.headgate.server.DiscoveryHost;
import io.smallrye.mutiny.subscription.MultiEmitter;

/** A scan's progress and result as ScanEvents; progress at most once per percent, so a long scan stays a short stream. */
final class ScanEmitter implements ScanListener {

    private final MultiEmitter<? super ScanEvent> emitter;
    private String phase = "";
    private int percent = -1;

    ScanEmitter(MultiEmitter<? super ScanEvent> emitter) {
        this.emitter = emitter;
    }

    @Override
    public void progress(String phase, int done, int total) {
        int now = (int) (100L * done / total);
        if (phase.equals(this.phase) && now == percent && done < total) return;
        this.phase = phase;
        this.percent = now;
        emitter.emit(ProtoMapping.progress(phase, done, total));
    }

    @Override
    public void finished(ScanReport report) {
        emitter.emit(ProtoMapping.result(report));
        emitter.complete();
    }

    @Override
    public void failed(Throwable error) {
        emitter.fail(switch (error) {
            case DiscoveryHost.AnalysisUnavailable u -> Errors.precondition("model", u.getMessage());
            case IllegalArgumentException i -> Errors.invalid("examples", i.getMessage());
            default -> Errors.internal("the scan", error);
        });
    }

    @Override
    public boolean cancelled() {
        return emitter.isCancelled();
    }
}
