package io.headgate.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.headgate.api.v1.Finished;
import io.headgate.engine.Scheduler;
import io.headgate.testing.GrpcStream;
import io.headgate.testing.PythonClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.net.URL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The gateway driven by a client that is not grpc-java: Python's grpcio, as a subprocess (see
 * {@link PythonClient}). A cancellation storm over one HTTP/2 connection, and a table of malformed
 * and hostile requests.
 */
@QuarkusTest
class OutsideClientTest extends GatewayTestBase {

    @TestHTTPResource("/")
    URL root;

    private String target() {
        return "localhost:" + root.getPort();
    }

    /**
     * 10,000 streams over one connection from 8 threads, each cancelled after its first token. Before
     * the fix about 1 storm in 3 of 800 such streams lost its connection (GOAWAY PROTOCOL_ERROR, see
     * GeneratorService); all must end CANCELLED on the one connection, leave no slot or queue entry
     * behind, and no memory.
     */
    @Test
    void tenThousandStreamsCancelledAfterTheirFirstTokenOverOneConnection() throws Exception {
        PythonClient python = PythonClient.prepare();
        Scheduler scheduler = model().model().scheduler();
        // warm-up: classes, compiled code, the connection and the meters reach their steady state first
        assertAllCancelledOnOneConnection(python.run(target(), Duration.ofMinutes(2), "storm", "--streams", "400"), 400);
        awaitIdle(scheduler);
        long before = heapAfterCollection();

        JsonNode storm = python.run(target(), Duration.ofMinutes(8), "storm", "--streams", "10000", "--threads", "8");
        assertAllCancelledOnOneConnection(storm, 10_000);
        awaitIdle(scheduler);
        long after = heapAfterCollection();
        System.out.printf("storm: 10000 streams in %.1f s; heap after a collection %d -> %d bytes (%+.2f%%)%n",
                storm.get("seconds").asDouble(), before, after, 100.0 * (after - before) / before);
        assertThat(after).as("heap after a collection, bytes; %d before", before).isLessThanOrEqualTo((long) (before * 1.05));
    }

    private static void assertAllCancelledOnOneConnection(JsonNode storm, int streams) {
        assertThat(storm.get("errors").toString()).as("calls that failed other than CANCELLED").isEqualTo("[]");
        assertThat(storm.get("outcomes").toString()).isEqualTo("{\"CANCELLED\":" + streams + "}");
        assertThat(storm.get("ready_transitions").asInt()).as("times the channel (re)connected").isEqualTo(1);
    }

    private static void awaitIdle(Scheduler scheduler) {
        await("slots and queue emptied").atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(scheduler.activeStreams()).as("active streams").isZero();
            assertThat(scheduler.waitingStreams()).as("waiting streams").isZero();
        });
    }

    private static long heapAfterCollection() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /**
     * At least 40 malformed or hostile requests, each answered with its status and a description
     * that starts with the field at fault (a bad Steer mid-stream: SteeringRejected naming it, the
     * stream going on); hostile but valid traffic served to the end; a message past the transport's
     * size limit refused; then a normal stream, token for token what grpc-java gets.
     */
    @Test
    void malformedAndHostileRequestsFromPython() throws Exception {
        JsonNode report = PythonClient.prepare().run(target(), Duration.ofMinutes(5), "malformed", "--admin-token", "test-admin-token");
        JsonNode cases = report.get("cases");
        assertThat(cases.size()).as("malformed requests in the table").isGreaterThanOrEqualTo(40);
        SoftAssertions softly = new SoftAssertions();
        for (JsonNode c : cases) {
            String name = c.get("name").asText(), field = c.get("expected_field").asText() + ": ";
            softly.assertThat(c.get("code").asText()).as(name + ": " + c.get("details").asText()).isEqualTo(c.get("expected_code").asText());
            if (c.get("expected_code").asText().equals("OK")) {
                List<String> rejected = new ArrayList<>();
                c.get("rejected").forEach(r -> rejected.add(r.asText()));
                softly.assertThat(rejected).as(name + ": SteeringRejected").anyMatch(r -> r.startsWith(field));
            } else {
                softly.assertThat(c.get("details").asText()).as(name).startsWith(field);
            }
        }
        for (JsonNode c : report.get("accepted")) {
            softly.assertThat(c.get("code").asText()).as(c.get("name").asText() + ": " + c.get("details").asText()).isEqualTo("OK");
            softly.assertThat(c.get("finished").asText()).as(c.get("name").asText()).isIn("EOS", "MAX_TOKENS");
        }
        softly.assertThat(report.get("oversize").get("code").asText()).as("a 1 MB message").isEqualTo("RESOURCE_EXHAUSTED");
        softly.assertAll();

        var expected = GrpcStream.start(generator, start("{(<[()]([{=").build()).rest();
        JsonNode normal = report.get("normal");
        assertThat(normal.get("code").asText()).isEqualTo("OK");
        assertThat(normal.get("finished").asText()).isEqualTo(Finished.Reason.EOS.name());
        StringBuilder text = new StringBuilder();
        GrpcStream.tokens(expected).forEach(t -> text.append(t.getText()));
        text.append(expected.getLast().getFinished().getText());
        assertThat(normal.get("text").asText()).isEqualTo(text.toString());
        awaitIdle(model().model().scheduler());
    }
}
