package io.headgate.client;

import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;

import java.util.concurrent.TimeUnit;

/**
 * The gateway a command talks to: one plaintext gRPC channel. Admin calls carry {@code authorization:
 * Bearer <token>} with the token from {@code HEADGATE_ADMIN_TOKEN}; other calls carry nothing.
 */
final class Gateway implements AutoCloseable {

    static final String TOKEN_VARIABLE = "HEADGATE_ADMIN_TOKEN";
    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final ManagedChannel channel;
    private final String adminToken;

    Gateway(ClientOptions.Target target, String adminToken) {
        this.channel = ManagedChannelBuilder.forAddress(target.host(), target.port()).usePlaintext().build();
        this.adminToken = adminToken == null || adminToken.isBlank() ? null : adminToken.strip();
    }

    Channel channel() {
        return channel;
    }

    /** The channel with the admin token attached (none when the variable is unset: the server then says what is missing). */
    Channel admin() {
        if (adminToken == null) return channel;
        Metadata headers = new Metadata();
        headers.put(AUTHORIZATION, "Bearer " + adminToken);
        return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    boolean hasToken() {
        return adminToken != null;
    }

    @Override
    public void close() {
        channel.shutdown();
        try {
            if (!channel.awaitTermination(2, TimeUnit.SECONDS)) channel.shutdownNow();
        } catch (InterruptedException e) {
            channel.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
