package io.headgate.api;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.Set;

/**
 * The Discovery service's admin methods go through {@link AdminAuth}: SuggestProfile and SaveSearchProfile write
 * to the profile registry, so it needs the admin token like the Profiles service. Scans, searches and evaluations only read.
 */
@ApplicationScoped
public class DiscoveryAuth implements ServerInterceptor {

    static final Set<String> ADMIN_METHODS = Set.of("SuggestProfile", "SaveSearchProfile");

    @Inject
    AdminAuth admin;

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        if (ADMIN_METHODS.contains(call.getMethodDescriptor().getBareMethodName())) return admin.interceptCall(call, headers, next);
        return next.startCall(call, headers);
    }
}
