package io.headgate.api;

import io.headgate.api.v1.SearchEvent;
import io.headgate.discovery.search.SearchListener;
import io.headgate.discovery.search.SearchProgress;
import io.headgate.discovery.search.SearchResult;
import io.headgate.server.DiscoveryHost;
import io.smallrye.mutiny.subscription.MultiEmitter;

import java.util.concurrent.TimeoutException;

/** A search's progress and result as SearchEvents; progress once per measured batch, so a long search shows it is alive. */
final class SearchEmitter implements SearchListener {

    private final MultiEmitter<? super SearchEvent> emitter;

    SearchEmitter(MultiEmitter<? super SearchEvent> emitter) {
        this.emitter = emitter;
    }

    @Override
    public void progress(SearchProgress progress) {
        emitter.emit(SearchMapping.progress(progress));
    }

    void finished(String id, SearchResult result) {
        emitter.emit(SearchMapping.result(id, result));
        emitter.complete();
    }

    void failed(Throwable error) {
        emitter.fail(switch (error) {
            case io.headgate.engine.Rejection r -> Errors.of(r);
            case TimeoutException t -> io.grpc.Status.DEADLINE_EXCEEDED.withDescription("the search's evaluations ran past max_seconds; "
                    + "their streams were cancelled").asRuntimeException();
            case DiscoveryHost.AnalysisUnavailable u -> Errors.precondition("model", u.getMessage());
            default -> Errors.internal("the search", error);
        });
    }

    @Override
    public boolean cancelled() {
        return emitter.isCancelled();
    }
}
