package io.headgate.api;

import io.grpc.Metadata;
import io.headgate.api.v1.Generator;
import io.headgate.api.v1.Profiles;
import io.headgate.api.v1.Start;
import io.headgate.api.v1.Steering;
import io.headgate.server.ModelHost;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.grpc.GrpcClientUtils;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The gateway under test over real gRPC on loopback, with the demo model loaded. */
abstract class GatewayTestBase {

    static final String MODEL = "parens-lm";

    @GrpcClient("headgate")
    Generator generator;

    @GrpcClient("headgate")
    Profiles profilesWithoutToken;

    @Inject
    ModelHost host;

    @BeforeEach
    void modelLoaded() throws InterruptedException {
        assertThat(host.awaitLoaded(120, TimeUnit.SECONDS)).as("models loaded").isTrue();
        assertThat(host.entry(MODEL).state()).as(String.valueOf(host.entry(MODEL).error())).isEqualTo(ModelHost.State.READY);
    }

    Profiles admin() {
        return adminWith("Bearer test-admin-token");
    }

    Profiles adminWith(String authorization) {
        Metadata headers = new Metadata();
        headers.put(AdminAuth.AUTHORIZATION, authorization);
        return GrpcClientUtils.attachHeaders(profilesWithoutToken, headers);
    }

    static Start.Builder start(String prompt) {
        return Start.newBuilder().setModel(MODEL).setText(prompt);
    }

    static Steering profile(String reference) {
        return Steering.newBuilder().setProfile(reference).build();
    }

    ModelHost.Entry model() {
        return host.entry(MODEL);
    }
}
