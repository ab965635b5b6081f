package io.headgate.api;

import io.headgate.api.v1.SearchEvent;
import io.headgate.discovery.HeadScan;
import io.headgate.discovery.search.GreedySearch;
import io.headgate.discovery.search.SearchListener;
import io.headgate.discovery.search.SearchProgress;
import io.headgate.discovery.search.SearchResult;
import io.headgate.server.DiscoveryHost;
import io.smallrye.mutiny.subscription.MultiEmitter;
import org.jboss.logging.Logger;

import java.util.UUID;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * One Search call as a job on the model's discovery thread: progress once per measured batch, so a
 * long search shows it is alive, then the result, kept for SaveSearchProfile; the client going away
 * cancels it between batches (and the batch's streams).
 */
final class SearchCall implements DiscoveryHost.Job, SearchListener {

    private static final Logger LOG = Logger.getLogger(SearchCall.class);

    private final String model;
    private final SearchRequests.Search search;
    private final DiscoveryHost host;
    private final MultiEmitter<? super SearchEvent> emitter;

    SearchCall(String model, SearchRequests.Search search, DiscoveryHost host, MultiEmitter<? super SearchEvent> emitter) {
        this.model = model;
        this.search = search;
        this.host = host;
        this.emitter = emitter;
    }

    @Override
    public void run(Supplier<HeadScan> analysis) throws Exception {
        SearchResult result = new GreedySearch(search.objective(), this).run(search.plan());
        String id = "search-" + UUID.randomUUID().toString().substring(0, 8);
        host.searches().put(id, new DiscoveryHost.StoredSearch(id, model, result));
        LOG.infof("%s of %s: %s", id, model, result.provenance());
        emitter.emit(SearchMapping.result(id, result));
        emitter.complete();
    }

    @Override
    public void progress(SearchProgress progress) {
        emitter.emit(SearchMapping.progress(progress));
    }

    @Override
    public void failed(Throwable error) {
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
