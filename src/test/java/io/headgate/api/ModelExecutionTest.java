package io.headgate.api;

import io.headgate.api.v1.DescribeModelRequest;
import io.headgate.api.v1.ModelInfo;
import io.headgate.api.v1.Models;
import io.headgate.model.SessionFactory;
import io.headgate.server.ModelHost;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code headgate.models.<name>.execution} on a machine where CUDA cannot be used: the default runs on
 * the CPU, {@code auto} loads and runs on the CPU, {@code cuda} fails to load with an error naming the
 * field; Describe says where each model runs.
 */
@QuarkusTest
@TestProfile(ModelExecutionTest.Executions.class)
class ModelExecutionTest {

    public static class Executions implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "headgate.models.parens-auto.path", "models/parens-lm",
                    "headgate.models.parens-auto.slots", "2",
                    "headgate.models.parens-auto.execution", "auto",
                    "headgate.models.parens-cuda.path", "models/parens-lm",
                    "headgate.models.parens-cuda.slots", "2",
                    "headgate.models.parens-cuda.execution", "cuda:0");
        }
    }

    @GrpcClient("headgate")
    Models models;

    @Inject
    ModelHost host;

    private ModelInfo describe(String model) {
        return models.describe(DescribeModelRequest.newBuilder().setModel(model).build()).await().atMost(Duration.ofSeconds(10));
    }

    @Test
    void describeSaysWhereEachModelRunsAndCudaFailsNamingTheField() throws Exception {
        assumeTrue(SessionFactory.cudaProblem(0) != null, "this machine can run CUDA");
        assertThat(host.awaitLoaded(120, TimeUnit.SECONDS)).isTrue();

        ModelInfo plain = describe("parens-lm");
        assertThat(plain.getState()).isEqualTo("ready");
        assertThat(plain.getExecution()).isEqualTo("cpu");

        ModelInfo auto = describe("parens-auto");
        assertThat(auto.getState()).as(auto.getError()).isEqualTo("ready");
        assertThat(auto.getExecution()).isEqualTo("cpu");

        ModelInfo cuda = describe("parens-cuda");
        assertThat(cuda.getState()).isEqualTo("failed");
        assertThat(cuda.getError()).startsWith("headgate.models.parens-cuda.execution is 'cuda:0' but CUDA cannot be used: ");
        assertThat(cuda.getExecution()).isEmpty();
        assertThat(host.entry("parens-cuda").state()).isEqualTo(ModelHost.State.FAILED);
    }
}
