package io.headgate.api;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.headgate.server.HeadgateConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * Admin RPCs need {@code authorization: Bearer <headgate.admin.token>}. Without a configured token
 * they are refused, and the refusal says how to configure one.
 */
@ApplicationScoped
public class AdminAuth implements ServerInterceptor {

    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    @Inject
    HeadgateConfig config;

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        Optional<Status> refusal = check(config.admin().token(), headers.get(AUTHORIZATION));
        if (refusal.isPresent()) {
            call.close(refusal.get(), new Metadata());
            return new ServerCall.Listener<>() { };
        }
        return next.startCall(call, headers);
    }

    /** Empty when the header carries the configured token; otherwise the status to refuse with. */
    static Optional<Status> check(Optional<String> configured, String header) {
        if (configured.isEmpty() || configured.get().isBlank()) {
            return Optional.of(Status.PERMISSION_DENIED.withDescription(
                    "admin RPCs are disabled: set headgate.admin.token (or the HEADGATE_ADMIN_TOKEN environment variable)"
                            + " and send 'authorization: Bearer <token>'"));
        }
        if (header == null || !header.startsWith("Bearer ")) {
            return Optional.of(Status.UNAUTHENTICATED.withDescription("authorization: send 'Bearer <admin token>'"));
        }
        byte[] given = header.substring("Bearer ".length()).trim().getBytes(StandardCharsets.UTF_8);
        byte[] expected = configured.get().getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(given, expected)) {
            return Optional.of(Status.UNAUTHENTICATED.withDescription("authorization: the admin token is wrong"));
        }
        return Optional.empty();
    }
}
