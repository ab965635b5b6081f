package io.headgate.api;

import io.grpc.Status;
import io.headgate.api.v1.Generator;
import io.headgate.api.v1.Start;
import io.headgate.server.ModelHost;
import io.headgate.testing.GrpcStream;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A model that fails to load is reported by readiness and by Start, not skipped; the others still serve. */
@QuarkusTest
@TestProfile(FailedModelTest.BrokenModel.class)
class FailedModelTest {

    public static class BrokenModel implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("headgate.models.broken.path", "target/no-such-checkpoint");
        }
    }

    @GrpcClient("headgate")
    Generator generator;

    @Inject
    ModelHost host;

    @TestHTTPResource("/q/health/ready")
    URI ready;

    @Test
    void readinessIsDownAndNamesTheFailure() throws Exception {
        assertThat(host.awaitLoaded(120, TimeUnit.SECONDS)).isTrue();
        assertThat(host.entry("broken").state()).isEqualTo(ModelHost.State.FAILED);
        String body = MetricsAndHealthTest.get(ready);
        assertThat(body).contains("\"status\": \"DOWN\"").contains("\"broken\": \"failed: ").contains("\"parens-lm\": \"ready\"");

        Status status = GrpcStream.start(generator, Start.newBuilder().setModel("broken").setText("((=").build()).status();
        assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(status.getDescription()).contains("start.model").contains("failed to load");

        var ok = GrpcStream.start(generator, Start.newBuilder().setModel("parens-lm").setText("((=").build()).rest();
        assertThat(GrpcStream.tokens(ok)).isNotEmpty();
    }
}
