package io.headgate.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.headgate.api.v1.Generator;
import io.headgate.api.v1.Start;
import io.headgate.api.v1.Steer;
import io.headgate.api.v1.Steering;
import io.headgate.server.ModelHost;
import io.headgate.testing.GrpcStream;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every query of the Grafana dashboard returns data from a real Prometheus scraping the gateway
 * under load: no panel on a metric, label or variable that does not exist. Prometheus is Debian's
 * {@code prometheus} package ({@code .ci/run} installs it); without {@code /usr/bin/prometheus} the
 * test fails. The gateway runs canaries every 2 s and shadows every stream, so the canary and
 * intervention metrics exist.
 */
@QuarkusTest
@TestProfile(DashboardQueriesTest.CanariesAndShadows.class)
class DashboardQueriesTest {

    static final Path PROMETHEUS = Path.of("/usr/bin/prometheus");
    static final String MODEL = "parens-lm", DIFFUSION = "digits-dit", FORECASTER = "series-tsfm";
    /** Series only a diffusion model has: their panels are checked with a diffusion model chosen. */
    static final List<String> DIFFUSION_METRICS = List.of("_step_", "headgate_images_total", "headgate_canary_sample_quality");
    /** Series only a forecaster has. */
    static final List<String> FORECAST_METRICS = List.of("headgate_forecast", "first_forecast", "headgate_canary_forecast_error");
    static final Duration DEADLINE = Duration.ofSeconds(120);

    public static class CanariesAndShadows implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("headgate.effect.canary-interval", "2s", "headgate.effect.shadow-fraction", "1.0");
        }
    }

    static boolean prometheusInstalled() {
        return Files.isExecutable(PROMETHEUS);
    }

    @GrpcClient("headgate")
    Generator generator;
    @GrpcClient("headgate")
    io.headgate.api.v1.Diffusion diffusion;
    @GrpcClient("headgate")
    io.headgate.api.v1.Forecaster forecaster;

    @Inject
    ModelHost host;

    @TestHTTPResource("/q/metrics")
    URI metrics;

    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    void everyPanelQueryAndVariableReturnsDataFromPrometheus(@TempDir Path tmp) throws Exception {
        assertThat(prometheusInstalled()).as("Prometheus at %s (Debian's prometheus package; .ci/run installs it)", PROMETHEUS).isTrue();
        assertThat(host.awaitLoaded(120, TimeUnit.SECONDS)).as("models loaded").isTrue();
        int port = freePort();
        Path config = tmp.resolve("prometheus.yml");
        Files.writeString(config, """
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                scrape_configs:
                  - job_name: headgate
                    metrics_path: /q/metrics
                    static_configs:
                      - targets: ['127.0.0.1:%d']
                """.formatted(metrics.getPort()));
        Path log = tmp.resolve("prometheus.log");
        Process prometheus = new ProcessBuilder(PROMETHEUS.toString(), "--config.file=" + config,
                "--storage.tsdb.path=" + tmp.resolve("data"), "--web.listen-address=127.0.0.1:" + port,
                "--storage.tsdb.retention.time=1h")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService load = Executors.newSingleThreadExecutor();
        try {
            URI api = URI.create("http://127.0.0.1:" + port);
            awaitReady(api, prometheus, log);
            AtomicInteger rounds = new AtomicInteger();
            Future<?> traffic = load.submit(() -> {
                while (!stop.get()) {
                    traffic();
                    rounds.incrementAndGet();
                    Thread.sleep(200);
                }
                return null;
            });

            Dashboard dashboard = Dashboard.load();
            Map<String, String> all = Map.of("model", ".*", "profile", ".*", "arm", ".*", "__rate_interval", "30s",
                    "__interval", "15s", "__range", "5m");
            Map<String, String> chosen = Map.of("model", MODEL, "profile", "pag-l1", "arm", "none", "__rate_interval", "30s",
                    "__interval", "15s", "__range", "5m");
            Map<String, String> chosenDiffusion = Map.of("model", DIFFUSION, "profile", "pag-l0", "arm", "none", "__rate_interval", "30s",
                    "__interval", "15s", "__range", "5m");
            Map<String, String> chosenForecast = Map.of("model", FORECASTER, "profile", "prune-2", "arm", "none", "__rate_interval", "30s",
                    "__interval", "15s", "__range", "5m");
            Map<String, String> checks = new LinkedHashMap<>();
            for (Dashboard.Query q : dashboard.queries()) {
                checks.put(q + "  [All]", Dashboard.substitute(q.expr(), all));
                Map<String, String> pick = DIFFUSION_METRICS.stream().anyMatch(q.expr()::contains) ? chosenDiffusion
                        : FORECAST_METRICS.stream().anyMatch(q.expr()::contains) ? chosenForecast : chosen;
                checks.put(q + "  [model=" + pick.get("model") + ", profile=" + pick.get("profile") + ", arm=none]", Dashboard.substitute(q.expr(), pick));
            }
            for (String v : List.of("model", "profile", "arm")) {
                checks.put("variable $" + v, Dashboard.substitute(Dashboard.variableQuery(dashboard.variable(v)), all));
            }
            for (String metric : KubernetesManifestsTest.adapterMetrics()) checks.put("autoscaler metric " + metric, metric);

            // Data appears as Prometheus scrapes and the first canary runs end: poll until every query has some.
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            Map<String, String> failing = new LinkedHashMap<>(checks);
            while (true) {
                assertThat(traffic.isDone()).as("traffic stopped early").isFalse();
                for (var it = failing.entrySet().iterator(); it.hasNext(); ) {
                    var e = it.next();
                    if (hasFiniteSample(api, e.getValue())) it.remove();
                }
                if (failing.isEmpty() || System.nanoTime() > deadline) break;
                Thread.sleep(1000);
            }
            List<String> report = new ArrayList<>();
            for (var e : failing.entrySet()) {
                report.add(e.getKey() + "\n    sent: " + e.getValue() + "\n    got: " + abbreviate(query(api, e.getValue()).toString()));
            }
            assertThat(report).as("queries without data after %d s and %d rounds of traffic (of %d checks)",
                    DEADLINE.toSeconds(), rounds.get(), checks.size()).isEmpty();
            assertThat(variableValues(api, Dashboard.substitute(Dashboard.variableQuery(dashboard.variable("profile")), all), "profile"))
                    .contains("identity", "pag-l1", "ablate-l3", "pag-l0", "prune-2");
            assertThat(variableValues(api, Dashboard.substitute(Dashboard.variableQuery(dashboard.variable("arm")), all), "arm")).contains("none");
            stop.set(true);
            traffic.get(60, TimeUnit.SECONDS);
        } finally {
            stop.set(true);
            load.shutdownNow();
            load.awaitTermination(30, TimeUnit.SECONDS);
            prometheus.destroy();
            if (!prometheus.waitFor(10, TimeUnit.SECONDS)) prometheus.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    /**
     * One round: concurrent streams under identity, pag-l1 and ablate-l3 (all shadowed, by the
     * profile's shadow fraction of 1), one switched to pag-l1 mid-stream with a re-prefill, and two
     * images of the diffusion model (identity and pag-l0).
     */
    private void traffic() throws InterruptedException {
        List<io.smallrye.mutiny.Uni<List<io.headgate.api.v1.DiffusionEvent>>> images = new ArrayList<>();
        for (String profile : List.of("identity", "pag-l0")) {
            var start = io.headgate.api.v1.DiffusionStart.newBuilder().setModel(DIFFUSION).setUnconditional(true).setSteps(8)
                    .setSteering(steering(profile));
            images.add(diffusion.generate(io.smallrye.mutiny.Multi.createFrom().item(io.headgate.api.v1.DiffusionRequest.newBuilder()
                    .setStart(start).build())).collect().asList());
        }
        List<GrpcStream> streams = new ArrayList<>();
        for (String profile : List.of("identity", "pag-l1", "ablate-l3")) {
            streams.add(GrpcStream.start(generator, start("{(<[()]([{=").setSteering(steering(profile)).setShadow(true)
                    .setMaxTokens(12).setIgnoreEos(true).build()));
        }
        GrpcStream switched = GrpcStream.start(generator, start("(([{<=").setCreditWindow(1).setMaxTokens(8).setIgnoreEos(true).build());
        switched.nextToken();
        switched.steer(Steer.newBuilder().setSteering(steering("pag-l1")).setReprefill(true).build());
        switched.ack(1000);
        streams.add(switched);
        for (GrpcStream s : streams) {
            s.rest();
            s.halfClose();
        }
        for (var image : images) image.await().atMost(Duration.ofSeconds(30));
        forecastTraffic();
    }

    /** A forecast stream under prune-2 (identity compared beside it) fed a few actuals, then closed. */
    private void forecastTraffic() {
        List<io.headgate.api.v1.ForecastRequest> requests = new ArrayList<>();
        io.headgate.api.v1.ForecastStart.Builder start = io.headgate.api.v1.ForecastStart.newBuilder().setModel(FORECASTER).setSeasonLength(12)
                .setHorizon(12).setSteering(steering("prune-2"));
        for (int i = 0; i < 60; i++) start.addContext(100 + 10 * Math.sin(2 * Math.PI * i / 12) + i);
        requests.add(io.headgate.api.v1.ForecastRequest.newBuilder().setStart(start).build());
        for (int i = 60; i < 64; i++) {
            requests.add(io.headgate.api.v1.ForecastRequest.newBuilder().setObserve(io.headgate.api.v1.Observe.newBuilder()
                    .addValues(100 + 10 * Math.sin(2 * Math.PI * i / 12) + i)).build());
        }
        requests.add(io.headgate.api.v1.ForecastRequest.newBuilder().setClose(io.headgate.api.v1.Close.getDefaultInstance()).build());
        forecaster.forecast(io.smallrye.mutiny.Multi.createFrom().iterable(requests)).collect().asList().await().atMost(Duration.ofSeconds(30));
    }

    private static Start.Builder start(String prompt) {
        return Start.newBuilder().setModel(MODEL).setText(prompt);
    }

    private static Steering steering(String profile) {
        return Steering.newBuilder().setProfile(profile).build();
    }

    private boolean hasFiniteSample(URI api, String promql) throws Exception {
        for (JsonNode series : query(api, promql).path("data").path("result")) {
            double v = Double.parseDouble(series.path("value").path(1).asText("NaN").replace("+Inf", "Infinity").replace("-Inf", "-Infinity"));
            if (Double.isFinite(v)) return true;
        }
        return false;
    }

    private List<String> variableValues(URI api, String promql, String label) throws Exception {
        List<String> values = new ArrayList<>();
        for (JsonNode series : query(api, promql).path("data").path("result")) values.add(series.path("metric").path(label).asText());
        return values;
    }

    private JsonNode query(URI api, String promql) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(api.resolve("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8)))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        JsonNode body = json.readTree(r.body());
        assertThat(body.path("status").asText()).as("Prometheus answered %s to %s: %s", r.statusCode(), promql, r.body()).isEqualTo("success");
        return body;
    }

    private void awaitReady(URI api, Process prometheus, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!prometheus.isAlive()) throw new AssertionError("Prometheus exited:\n" + Files.readString(log));
            try {
                if (http.send(HttpRequest.newBuilder(api.resolve("/-/ready")).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) return;
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new AssertionError("Prometheus not ready within 30 s:\n" + Files.readString(log));
    }

    private static String abbreviate(String s) {
        return s.length() <= 300 ? s : s.substring(0, 300) + "…";
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
