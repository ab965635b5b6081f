package io.headgate.steer.etcd;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.headgate.steer.RegistryUnavailableException;
import io.headgate.steer.etcd.rpc.CompactionRequest;
import io.headgate.steer.etcd.rpc.KVGrpc;
import io.headgate.steer.etcd.rpc.RangeRequest;
import io.headgate.steer.etcd.rpc.RangeResponse;
import io.headgate.steer.etcd.rpc.TxnRequest;
import io.headgate.steer.etcd.rpc.TxnResponse;
import io.headgate.steer.etcd.rpc.WatchGrpc;
import io.headgate.steer.etcd.rpc.WatchRequest;
import io.headgate.steer.etcd.rpc.WatchResponse;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A client of etcd's v3 gRPC API (the stubs generated from {@code src/main/proto/etcd}): one
 * grpc-java channel per configured endpoint, every request under a deadline, and failover to the
 * next endpoint when one stops answering. A DNS name with several addresses (a headless Service
 * over the members) is one endpoint: its channel resolves it and moves between the addresses itself.
 */
public final class EtcdConnection implements AutoCloseable {

    /** Where etcd is and how long one request may take. */
    public record Config(List<String> endpoints, Duration timeout) {
        public Config {
            endpoints = List.copyOf(endpoints);
            if (endpoints.isEmpty()) throw new IllegalArgumentException("headgate.registry.etcd.endpoints: at least one etcd client URL is needed");
            if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("headgate.registry.etcd.timeout: must be positive, got " + timeout);
        }
    }

    /** Statuses that say etcd did not answer (down, partitioned away, no leader, too slow), rather than refused. */
    private static final Set<Status.Code> UNREACHABLE = Set.of(Status.Code.UNAVAILABLE, Status.Code.DEADLINE_EXCEEDED, Status.Code.CANCELLED);
    /** etcd cancels a watch stream whose member has lost its leader when the client asks for that: a partitioned member must not look healthy. */
    private static final Metadata.Key<String> REQUIRE_LEADER = Metadata.Key.of("hasleader", Metadata.ASCII_STRING_MARSHALLER);
    private static final int MAX_MESSAGE = 64 << 20;

    private record Endpoint(String url, ManagedChannel channel) {
    }

    private final List<Endpoint> endpoints = new ArrayList<>();
    private final AtomicInteger current = new AtomicInteger();
    private final Duration timeout;
    private volatile boolean closed;

    public EtcdConnection(Config config) {
        this.timeout = config.timeout();
        for (String url : config.endpoints()) {
            URI uri = parse(url);
            ManagedChannel channel = NettyChannelBuilder.forTarget(uri.getHost() + ":" + (uri.getPort() < 0 ? 2379 : uri.getPort()))
                    .usePlaintext()
                    .maxInboundMessageSize(MAX_MESSAGE)
                    // notices a peer that vanished without closing the connection (etcd permits pings every 5 s)
                    .keepAliveTime(10, TimeUnit.SECONDS)
                    .keepAliveTimeout(5, TimeUnit.SECONDS)
                    .build();
            endpoints.add(new Endpoint(url, channel));
        }
    }

    /** An etcd client URL: {@code http://host:port} (or {@code host:port}); the port defaults to etcd's 2379. */
    private static URI parse(String url) {
        String trimmed = url.trim();
        URI uri;
        try {
            uri = URI.create(trimmed.contains("://") ? trimmed : "http://" + trimmed);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("headgate.registry.etcd.endpoints: '" + url + "' is not an etcd client URL such as http://etcd:2379");
        }
        if ("https".equals(uri.getScheme())) {
            throw new IllegalArgumentException("headgate.registry.etcd.endpoints: '" + url + "': TLS to etcd is not supported; use http:// inside the cluster network");
        }
        if (!"http".equals(uri.getScheme()) || uri.getHost() == null || (uri.getPath() != null && !uri.getPath().isEmpty() && !uri.getPath().equals("/"))) {
            throw new IllegalArgumentException("headgate.registry.etcd.endpoints: '" + url + "' is not an etcd client URL such as http://etcd:2379");
        }
        return uri;
    }

    /** The endpoint requests go to now. */
    public String endpoint() {
        return endpoints.get(current.get()).url();
    }

    /** Every configured endpoint, for messages. */
    public String describe() {
        return String.join(", ", endpoints.stream().map(Endpoint::url).toList());
    }

    public RangeResponse range(RangeRequest request, String what) throws IOException {
        return call(what, kv -> kv.range(request));
    }

    public TxnResponse txn(TxnRequest request, String what) throws IOException {
        return call(what, kv -> kv.txn(request));
    }

    /** Drops the store's history up to {@code revision}; watches from before it are then refused (operators compact; tests too). */
    public void compact(long revision) throws IOException {
        call("compacting to revision " + revision, kv -> kv.compact(CompactionRequest.newBuilder().setRevision(revision).setPhysical(true).build()));
    }

    /** Opens a watch stream on the current endpoint; it ends with an error if the member loses its leader. */
    public ClientCallStreamObserver<WatchRequest> watch(StreamObserver<WatchResponse> responses) {
        Metadata headers = new Metadata();
        headers.put(REQUIRE_LEADER, "true");
        WatchGrpc.WatchStub stub = WatchGrpc.newStub(endpoints.get(current.get()).channel())
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
        return (ClientCallStreamObserver<WatchRequest>) stub.watch(responses);
    }

    /**
     * Moves to the next endpoint (if there are several) and makes its channel drop its connection and
     * resolve its name again: the next request connects afresh, at once rather than after grpc's
     * backoff, and through a Service possibly to another member (one without a leader still accepts
     * connections). Requests in flight on the channel finish on their connection.
     */
    public void failover() {
        int next = current.updateAndGet(i -> (i + 1) % endpoints.size());
        endpoints.get(next).channel().enterIdle();
    }

    /** Whether a failure means etcd did not answer (as opposed to refusing the request). */
    public static boolean unreachable(Throwable t) {
        return t instanceof StatusRuntimeException s && UNREACHABLE.contains(s.getStatus().getCode());
    }

    /** A failure as the registry reports it: unreachable, or an error naming what was refused. */
    public static String reason(Throwable t) {
        if (t instanceof StatusRuntimeException s) {
            Status status = s.getStatus();
            return status.getCode() + (status.getDescription() == null ? "" : ": " + status.getDescription());
        }
        return t.toString();
    }

    private <T> T call(String what, Function<KVGrpc.KVBlockingStub, T> request) throws IOException {
        Endpoint endpoint = endpoints.get(current.get());
        try {
            return request.apply(KVGrpc.newBlockingStub(endpoint.channel()).withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS));
        } catch (StatusRuntimeException e) {
            if (unreachable(e)) {
                if (endpoints.size() > 1) current.compareAndSet(endpoints.indexOf(endpoint), (endpoints.indexOf(endpoint) + 1) % endpoints.size());
                throw new RegistryUnavailableException("etcd at " + endpoint.url() + " did not answer " + what + ": " + reason(e), e);
            }
            throw new IOException("etcd at " + endpoint.url() + " refused " + what + ": " + reason(e), e);
        }
    }

    /** Once closed, failures are the closing, not etcd's. */
    public boolean closed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
        for (Endpoint e : endpoints) e.channel().shutdownNow();
        for (Endpoint e : endpoints) {
            try {
                e.channel().awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
