package io.headgate.web;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.quarkus.runtime.ShutdownEvent;
import io.vertx.core.http.HttpServerRequest;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The HTTP surfaces (console transport, OpenAI completions) are gRPC clients of this same gateway:
 * each HTTP request becomes a real gRPC call to the address the request itself arrived on (the one
 * port carries both). So every call passes through the same interceptors (the admin token), the
 * same services and validation, and fails with the same statuses as a gRPC client's; nothing is
 * reimplemented for HTTP. One plaintext HTTP/2 connection per local address, made on first use.
 */
@ApplicationScoped
public class GatewayChannel {

    // scan results and images are larger than gRPC's 4 MiB default would comfortably allow
    private static final int MAX_MESSAGE_BYTES = 64 << 20;

    private final Map<InetSocketAddress, ManagedChannel> channels = new ConcurrentHashMap<>();

    /** The channel to this gateway as reached by {@code request}. */
    ManagedChannel to(HttpServerRequest request) {
        var local = request.localAddress();
        InetSocketAddress address = new InetSocketAddress(local.hostAddress(), local.port());
        return channels.computeIfAbsent(address, a -> NettyChannelBuilder.forAddress(a)
                .usePlaintext()
                .maxInboundMessageSize(MAX_MESSAGE_BYTES)
                .build());
    }

    /** New calls are refused; calls in flight go on, so relayed streams still get their Finished{SHUTDOWN}. */
    void close(@Observes ShutdownEvent ignored) {
        channels.values().forEach(ManagedChannel::shutdown);
    }
}
