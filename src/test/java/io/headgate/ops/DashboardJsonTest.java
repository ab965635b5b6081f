package io.headgate.ops;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Grafana dashboard and its provisioning, structurally: importable (uid, title, variables,
 * panels on the datasource variable, a sane grid), every query on a metric the gateway exports and
 * on defined variables only, and a panel for each thing an operator reads. Whether each query
 * returns data against a real Prometheus is {@link DashboardQueriesTest}.
 */
class DashboardJsonTest {

    /** The gateway's metrics (EngineMetrics, Canaries) as Prometheus names them, before _bucket/_sum/_count. */
    static final Set<String> EXPORTED = Set.of(
            "headgate_time_to_first_token_seconds", "headgate_inter_token_latency_seconds", "headgate_e2e_request_latency_seconds",
            "headgate_request_queue_time_seconds", "headgate_step_duration_seconds", "headgate_batch_rows",
            "headgate_generated_tokens_total", "headgate_steering_changes_total", "headgate_intervention_kl",
            "headgate_intervention_top1_changed_total", "headgate_active_streams", "headgate_waiting_streams", "headgate_canary_accuracy",
            "headgate_time_to_first_step_seconds", "headgate_inter_step_latency_seconds", "headgate_images_total",
            "headgate_canary_sample_quality", "headgate_forecast_absolute_error_total", "headgate_forecast_naive_absolute_error_total",
            "headgate_forecast_quantile_loss_total", "headgate_forecast_naive_quantile_loss_total", "headgate_forecasts_total",
            "headgate_forecast_observations_total", "headgate_time_to_first_forecast_seconds", "headgate_canary_forecast_error");
    private static final Pattern METRIC = Pattern.compile("\\b(headgate_[a-z0-9_]+)");

    @Test
    void importable() throws Exception {
        Dashboard d = Dashboard.load();
        assertThat(d.json.path("uid").asText()).matches("[a-zA-Z0-9_-]{1,40}");
        assertThat(d.json.path("title").asText()).isNotBlank();
        assertThat(d.json.path("schemaVersion").asInt()).isGreaterThanOrEqualTo(36);
        assertThat(d.json.has("id") && !d.json.get("id").isNull()).as("no instance-specific id").isFalse();

        JsonNode datasource = d.variable("datasource");
        assertThat(datasource).as("datasource variable").isNotNull();
        assertThat(datasource.path("type").asText()).isEqualTo("datasource");
        assertThat(datasource.path("query").asText()).isEqualTo("prometheus");
        for (String name : List.of("model", "profile", "arm")) {
            JsonNode v = d.variable(name);
            assertThat(v).as("variable " + name).isNotNull();
            assertThat(v.path("type").asText()).isEqualTo("query");
            assertThat(v.path("datasource").path("uid").asText()).isEqualTo("${datasource}");
            assertThat(v.path("includeAll").asBoolean()).isTrue();
            assertThat(v.path("allValue").asText()).as("'All' as a regex for =~ matchers").isEqualTo(".*");
            assertThat(Dashboard.variableQuery(v)).contains("by (" + name + ")");
        }

        Set<Integer> ids = new HashSet<>();
        List<int[]> cells = new ArrayList<>();
        for (JsonNode p : d.panels()) {
            String title = p.path("title").asText();
            assertThat(title).isNotBlank();
            assertThat(ids.add(p.path("id").asInt())).as("unique id of panel " + title).isTrue();
            JsonNode g = p.path("gridPos");
            int x = g.path("x").asInt(), y = g.path("y").asInt(), w = g.path("w").asInt(), h = g.path("h").asInt();
            assertThat(w).as(title).isPositive();
            assertThat(h).as(title).isPositive();
            assertThat(x + w).as("panel " + title + " within 24 columns").isLessThanOrEqualTo(24);
            for (int[] c : cells) {
                boolean overlap = x < c[0] + c[2] && c[0] < x + w && y < c[1] + c[3] && c[1] < y + h;
                assertThat(overlap).as("panel " + title + " overlaps another").isFalse();
            }
            cells.add(new int[]{x, y, w, h});
            if (p.path("type").asText().equals("row")) continue;
            assertThat(p.path("datasource").path("type").asText()).as(title).isEqualTo("prometheus");
            assertThat(p.path("datasource").path("uid").asText()).as(title).isEqualTo("${datasource}");
            assertThat(p.path("targets").size()).as("queries of " + title).isPositive();
            Set<String> refIds = new HashSet<>();
            for (JsonNode t : p.path("targets")) {
                assertThat(t.path("datasource").path("uid").asText()).as(title).isEqualTo("${datasource}");
                assertThat(refIds.add(t.path("refId").asText())).as("unique refId in " + title).isTrue();
                assertThat(t.path("expr").asText()).as(title).isNotBlank();
            }
        }
    }

    @Test
    void everyQueryUsesExportedMetricsAndDefinedVariables() throws Exception {
        Dashboard d = Dashboard.load();
        for (Dashboard.Query q : d.queries()) {
            Matcher m = METRIC.matcher(q.expr());
            boolean any = false;
            while (m.find()) {
                any = true;
                String base = m.group(1).replaceAll("_(bucket|sum|count)$", "");
                assertThat(EXPORTED).as(q.toString()).contains(base);
            }
            assertThat(any).as(q + " reads a headgate metric").isTrue();
            for (String v : Dashboard.variablesIn(q.expr())) {
                assertThat(d.variable(v) != null || Dashboard.BUILT_INS.contains(v)).as(q + ": $" + v + " is defined").isTrue();
            }
            // Panels filter on every variable that applies to the metric (model on all; profile and arm where labelled).
            assertThat(q.expr()).as(q.toString()).contains("model=~\"$model\"");
        }
    }

    @Test
    void panelsCoverWhatAnOperatorReads() throws Exception {
        Dashboard d = Dashboard.load();
        List<String> exprs = d.queries().stream().map(Dashboard.Query::expr).toList();
        for (String histogram : List.of("headgate_time_to_first_token_seconds_bucket", "headgate_inter_token_latency_seconds_bucket")) {
            for (String phi : List.of("0.5", "0.95", "0.99")) {
                assertThat(exprs).as(histogram + " p" + phi).anyMatch(e -> e.contains("histogram_quantile(" + phi + ",") && e.contains(histogram));
            }
        }
        Map<String, String> required = Map.of(
                "tokens/s", "rate(headgate_generated_tokens_total",
                "active streams", "headgate_active_streams",
                "waiting streams", "headgate_waiting_streams",
                "batch rows", "headgate_batch_rows_bucket",
                "step duration by phase", "le, phase) (rate(headgate_step_duration_seconds_bucket",
                "steering changes", "rate(headgate_steering_changes_total",
                "KL per profile", "by (profile) (rate(headgate_intervention_kl_sum",
                "top-1 changes per profile", "by (profile) (rate(headgate_intervention_top1_changed_total",
                "canary accuracy", "headgate_canary_accuracy");
        required.forEach((what, fragment) -> assertThat(exprs).as(what).anyMatch(e -> e.contains(fragment)));
        assertThat(d.panels()).as("canary accuracy per profile and arm")
                .anyMatch(p -> p.path("targets").toString().contains("headgate_canary_accuracy")
                        && p.path("targets").toString().contains("{{profile}}") && p.path("targets").toString().contains("{{arm}}"));

        // The diffusion row: step latency, images, and sample quality per profile and arm.
        for (String metric : List.of("headgate_inter_step_latency_seconds", "headgate_images_total", "measure=\"accuracy\"",
                "measure=\"frechet_distance\"")) {
            assertThat(d.queries()).as("a diffusion panel on " + metric).anyMatch(q -> q.expr().contains(metric));
        }
        // The forecast row: live error relative to seasonal naive, traffic, held-out canaries.
        for (String metric : List.of("headgate_forecast_naive_absolute_error_total", "headgate_forecast_naive_quantile_loss_total",
                "headgate_forecast_observations_total", "headgate_canary_forecast_error")) {
            assertThat(d.queries()).as("a forecast panel on " + metric).anyMatch(q -> q.expr().contains(metric));
        }
        // The A/B row: panels comparing arms side by side.
        List<JsonNode> abPanels = new ArrayList<>();
        boolean inAb = false;
        for (JsonNode p : d.json.path("panels")) {
            if (p.path("type").asText().equals("row")) inAb = p.path("title").asText().contains("A/B");
            else if (inAb) abPanels.add(p);
        }
        assertThat(abPanels).as("panels in the A/B row").hasSizeGreaterThanOrEqualTo(4)
                .allMatch(p -> p.path("targets").toString().matches(".*by \\((le, )?arm[,)].*"), "every query groups by arm");
    }

    @Test
    void provisioningLoadsTheDashboardFromAFolderAndAPrometheusDatasource() throws Exception {
        Map<String, Object> ds = Kustomize.load(Path.of("grafana/provisioning/datasources/headgate-prometheus.yaml")).get(0);
        assertThat(ds.get("apiVersion")).isEqualTo(1);
        assertThat(KubernetesManifestsTest.list(ds.get("datasources"))).singleElement()
                .satisfies(o -> assertThat(KubernetesManifestsTest.cast(o)).containsEntry("type", "prometheus").containsKey("url"));
        Map<String, Object> dashboards = Kustomize.load(Path.of("grafana/provisioning/dashboards/headgate.yaml")).get(0);
        assertThat(dashboards.get("apiVersion")).isEqualTo(1);
        assertThat(KubernetesManifestsTest.list(dashboards.get("providers"))).singleElement().satisfies(o -> {
            Map<String, Object> provider = KubernetesManifestsTest.cast(o);
            assertThat(provider).containsEntry("type", "file");
            assertThat((String) KubernetesManifestsTest.at(provider, "options.path")).startsWith("/");
        });
    }
}
