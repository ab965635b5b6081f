package io.headgate.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.headgate.steer.Profile;
import io.headgate.steer.ProfileRegistry;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Kubernetes manifests in k8s/: the base and the CUDA overlay render (with {@link Kustomize},
 * and with {@code kubectl kustomize} where installed, which must agree), every resource validates
 * against its schema ({@link KubeSchema}), and the resources fit together and fit the gateway: probes
 * on the served health paths and port, Services onto the container port, the autoscaler on the
 * Deployment and on metrics the gateway exports, the disruption budget and the ServiceMonitor on
 * the right labels, mounted ConfigMaps that exist and that the profile seeder reads, writable paths
 * under writable volumes, and a termination grace period longer than the drain; and the registry's
 * etcd: a StatefulSet whose members form the cluster its flags describe, reachable by the gateway
 * through a Service on its client port, kept to a quorum by its disruption budget (or, in the
 * external-etcd overlay, no etcd of ours and the gateway pointed elsewhere).
 */
class KubernetesManifestsTest {

    static final Path K8S = Path.of("k8s");
    static final Path BASE = K8S.resolve("base");
    static final Path CUDA = K8S.resolve("overlays/cuda");
    static final Path EXTERNAL_ETCD = K8S.resolve("overlays/external-etcd");
    static final String NAMESPACE = "headgate";
    /** Gauges the gateway exports per model (EngineMetrics.forModel), the only ones an HPA may use here. */
    static final Set<String> LOAD_GAUGES = Set.of("headgate_active_streams", "headgate_waiting_streams");
    static final String PROFILES_LABEL = "headgate.io/profiles-for-model";

    // ------------------------------------------------------------------ rendering and schema

    @Test
    void baseRendersValidatesAndFitsTogether() throws Exception {
        List<Map<String, Object>> base = Kustomize.render(BASE);
        assertThat(base.stream().map(r -> (String) r.get("kind")).collect(Collectors.toSet()))
                .containsExactlyInAnyOrder("Namespace", "ServiceAccount", "ConfigMap", "Deployment", "StatefulSet", "Service",
                        "HorizontalPodAutoscaler", "PodDisruptionBudget", "ServiceMonitor");
        assertThat(problems(base)).isEmpty();
        assertThat(env(container(deployment(base)))).containsEntry("HEADGATE_REGISTRY_BACKEND", "etcd")
                .containsEntry("HEADGATE_REGISTRY_ETCD_ENDPOINTS", "http://headgate-etcd-client:2379");
        Map<String, Object> container = container(deployment(base));
        assertThat(cast(at(container, "resources.requests"))).as("a CPU pod requests no GPU").doesNotContainKey("nvidia.com/gpu");
    }

    @Test
    void cudaOverlayRendersValidatesAndRequestsAGpuOnGpuNodes() throws Exception {
        List<Map<String, Object>> cuda = Kustomize.render(CUDA);
        assertThat(problems(cuda)).isEmpty();
        Map<String, Object> deployment = deployment(cuda);
        Map<String, Object> container = container(deployment);
        assertThat(at(container, "resources.requests.nvidia\\.com/gpu")).isEqualTo("1");
        assertThat(at(container, "resources.limits.nvidia\\.com/gpu")).as("extended resources: limit equals request").isEqualTo("1");
        assertThat(cast(at(deployment, "spec.template.spec.nodeSelector"))).containsKey("nvidia.com/gpu.present");
        // The CUDA image, with the demo model on the GPU (the base runs it on the CPU).
        assertThat((String) at(container, "image")).endsWith("-cuda");
        assertThat(envValue(container, "HEADGATE_MODELS_PARENS_LM_EXECUTION")).isEqualTo("cuda:0");
        assertThat(envValue(container(deployment(Kustomize.render(BASE))), "HEADGATE_MODELS_PARENS_LM_EXECUTION")).isEqualTo("cpu");
        // Otherwise the overlay changes only scheduling and resources: everything else is the base's.
        List<Map<String, Object>> base = Kustomize.render(BASE);
        assertThat(cuda).hasSameSizeAs(base);
        for (Map<String, Object> r : base) {
            if (!r.get("kind").equals("Deployment")) assertThat(Kustomize.find(cuda, (String) r.get("kind"), Kustomize.name(r))).isEqualTo(r);
        }
        assertThat(at(container, "readinessProbe")).isEqualTo(at(container(deployment(base)), "readinessProbe"));
    }

    @Test
    void externalEtcdOverlayDropsOurEtcdAndPointsTheGatewayAtYours() throws Exception {
        List<Map<String, Object>> external = Kustomize.render(EXTERNAL_ETCD), base = Kustomize.render(BASE);
        assertThat(problems(external)).isEmpty();
        assertThat(external.stream().filter(r -> "registry".equals(at(r, "metadata.labels.app\\.kubernetes\\.io/component")))).isEmpty();
        assertThat(env(container(deployment(external)))).containsEntry("HEADGATE_REGISTRY_BACKEND", "etcd")
                .containsEntry("HEADGATE_REGISTRY_ETCD_ENDPOINTS", "http://etcd.example.internal:2379");
        for (Map<String, Object> r : external) {
            if (!r.get("kind").equals("Deployment")) assertThat(r).isEqualTo(Kustomize.find(base, (String) r.get("kind"), Kustomize.name(r)));
        }
        assertThat(external).hasSize(base.size() - 4);
    }

    @Test
    void theEtcdFlagsAreOnesEtcdKnows(@TempDir Path tmp) throws Exception {
        // The image runs etcd 3.5; Debian's 3.4 (the tests' etcd) knows the same flags. Given the manifest's
        // arguments (on loopback ports here) it parses every flag, says its version, and only then fails to
        // resolve the members' cluster names, which exist only in the cluster.
        assertThat(Files.isExecutable(io.headgate.testing.EtcdServer.BINARY)).as("etcd at " + io.headgate.testing.EtcdServer.BINARY).isTrue();
        Map<String, Object> etcd = etcdContainer(Kustomize.render(BASE));
        List<String> cmd = new ArrayList<>(List.of(io.headgate.testing.EtcdServer.BINARY.toString()));
        for (Object a : list(etcd.get("args"))) {
            cmd.add(((String) a).replace("$(POD_NAME)", "headgate-etcd-0").replace("$(POD_NAMESPACE)", NAMESPACE)
                    .replace("/var/lib/etcd", tmp.resolve("data").toString())
                    .replace("http://0.0.0.0:2379", "http://127.0.0.1:" + freePort()).replace("http://0.0.0.0:2380", "http://127.0.0.1:" + freePort()));
        }
        Path log = tmp.resolve("etcd.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (p.isAlive() && !Files.readString(log).contains("etcd Version") && System.nanoTime() < deadline) Thread.sleep(50);
        } finally {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        String out = Files.readString(log);
        assertThat(out).doesNotContain("flag provided but not defined").doesNotContain("invalid value").doesNotContain("error verifying flags")
                .contains("etcd Version");
    }

    private static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void kubectlKustomizeRendersTheSame() throws Exception {
        Assumptions.assumeTrue(onPath("kubectl"), "kubectl is not installed: the manifests are rendered by the test's own Kustomize only");
        for (Path dir : List.of(BASE, CUDA, EXTERNAL_ETCD)) {
            Process p = new ProcessBuilder("kubectl", "kustomize", dir.toString()).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("kubectl kustomize finished").isTrue();
            assertThat(p.exitValue()).as("kubectl kustomize %s: %s", dir, new String(out, StandardCharsets.UTF_8)).isZero();
            Path rendered = Files.createTempFile("kustomize", ".yaml");
            try {
                Files.write(rendered, out);
                List<Map<String, Object>> theirs = Kustomize.load(rendered);
                assertThat(byId(Kustomize.render(dir))).as(dir.toString()).isEqualTo(byId(theirs));
                assertThat(problems(theirs)).isEmpty();
            } finally {
                Files.delete(rendered);
            }
        }
    }

    @Test
    void theSchemaCheckCatchesUnknownFieldsAndWrongTypes() throws Exception {
        Map<String, Object> deployment = deployment(Kustomize.render(BASE));
        container(deployment).put("readinesProbe", Map.of("httpGet", Map.of("path", "/q/health/ready", "port", "http")));
        @SuppressWarnings("unchecked") Map<String, Object> spec = (Map<String, Object>) deployment.get("spec");
        spec.put("replicas", "two");
        assertThat(KubeSchema.validate(deployment)).singleElement().asString().contains("replicas");
        spec.put("replicas", 2);
        assertThat(KubeSchema.validate(deployment)).singleElement().asString()
                .contains("Deployment/headgate").contains("containers[0]").contains("readinesProbe");
        assertThat(KubeSchema.validate(Map.of("apiVersion", "v1", "kind", "Pod", "metadata", Map.of("name", "x"))))
                .singleElement().asString().contains("no schema");
    }

    // ------------------------------------------------------------------ profiles

    @Test
    void theProfilesConfigMapIsTheShippedProfilesAndSeedsARegistryFromAConfigMapVolume(@TempDir Path tmp) throws Exception {
        List<Map<String, Object>> base = Kustomize.render(BASE);
        Map<String, Object> cm = Kustomize.find(base, "ConfigMap", "headgate-profiles-parens-lm");
        assertThat(cm).isNotNull();
        @SuppressWarnings("unchecked") Map<String, String> data = (Map<String, String>) cm.get("data");
        Path shipped = Path.of("profiles", "parens-lm");
        ObjectMapper json = new ObjectMapper();
        try (Stream<Path> files = Files.list(shipped)) {
            Set<String> names = files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".json")).collect(Collectors.toCollection(TreeSet::new));
            assertThat(new TreeSet<>(data.keySet())).as("the ConfigMap holds exactly the shipped profiles").isEqualTo(names);
        }
        for (var e : data.entrySet()) {
            JsonNode inConfigMap = json.readTree(e.getValue());
            assertThat(inConfigMap).as(e.getKey() + " as in profiles/parens-lm").isEqualTo(json.readTree(shipped.resolve(e.getKey()).toFile()));
        }

        // kubelet's layout of a ConfigMap volume: the keys are symlinks into ..data, a symlink to a timestamped directory.
        Path seed = tmp.resolve("etc/headgate/profiles");
        Path mount = seed.resolve("parens-lm");
        Path version = mount.resolve("..2026_11_25_01_02_03.000000001");
        Files.createDirectories(version);
        for (var e : data.entrySet()) Files.writeString(version.resolve(e.getKey()), e.getValue());
        Files.createSymbolicLink(mount.resolve("..data"), version.getFileName());
        for (String key : data.keySet()) Files.createSymbolicLink(mount.resolve(key), Path.of("..data", key));

        ProfileRegistry registry = new ProfileRegistry(tmp.resolve("registry"));
        assertThat(registry.seedFromDirectory(seed)).isEqualTo(data.size());
        assertThat(registry.list("parens-lm").stream().map(Profile::name).toList())
                .containsExactlyInAnyOrderElementsOf(data.keySet().stream().map(k -> k.substring(0, k.length() - 5)).toList());
    }

    // ------------------------------------------------------------------ the checks

    /** Every problem in a rendering: schema, then how the resources fit together and fit the gateway. */
    static List<String> problems(List<Map<String, Object>> resources) throws IOException {
        List<String> p = new ArrayList<>();
        Set<String> ids = new TreeSet<>();
        for (Map<String, Object> r : resources) {
            p.addAll(KubeSchema.validate(r));
            if (!ids.add(r.get("kind") + "/" + Kustomize.name(r))) p.add("duplicate " + r.get("kind") + "/" + Kustomize.name(r));
            Object ns = at(r, "metadata.namespace");
            if (!r.get("kind").equals("Namespace") && !NAMESPACE.equals(ns)) p.add(r.get("kind") + "/" + Kustomize.name(r) + ": namespace " + ns);
        }
        if (!p.isEmpty()) return p;

        Map<String, Object> deployment = deployment(resources);
        Map<String, Object> pod = cast(at(deployment, "spec.template.spec"));
        Map<String, Object> podLabels = cast(at(deployment, "spec.template.metadata.labels"));
        Map<String, Object> c = container(deployment);
        int httpPort = Integer.parseInt(applicationProperties().getProperty("quarkus.http.port"));
        Map<String, Integer> containerPorts = new HashMap<>();
        for (Object o : list(c.get("ports"))) containerPorts.put((String) cast(o).get("name"), (Integer) cast(o).get("containerPort"));

        if (!subset(cast(at(deployment, "spec.selector.matchLabels")), podLabels)) p.add("Deployment: selector does not match the pod labels");
        if (!(c.get("image") instanceof String image) || image.isBlank()) p.add("container: no image");
        if (!containerPorts.containsValue(httpPort)) p.add("container: no port " + httpPort + " (quarkus.http.port: gRPC, metrics and health)");

        Map<String, String> probePaths = Map.of("startupProbe", "/q/health/ready", "readinessProbe", "/q/health/ready", "livenessProbe", "/q/health/live");
        for (var e : probePaths.entrySet()) {
            Map<String, Object> probe = cast(c.get(e.getKey()));
            if (probe == null) {
                p.add("container: no " + e.getKey());
                continue;
            }
            if (!e.getValue().equals(at(probe, "httpGet.path"))) p.add(e.getKey() + ": path " + at(probe, "httpGet.path") + ", expected " + e.getValue());
            if (!Integer.valueOf(httpPort).equals(resolvePort(at(probe, "httpGet.port"), containerPorts))) p.add(e.getKey() + ": port is not " + httpPort);
        }
        Map<String, Object> startup = cast(c.get("startupProbe"));
        if (startup != null && num(startup.get("periodSeconds"), 10) * num(startup.get("failureThreshold"), 3) < 300) {
            p.add("startupProbe: allows less than 5 minutes for loading (and converting) models");
        }
        for (String r : List.of("cpu", "memory")) if (at(c, "resources.requests." + r) == null) p.add("container: no " + r + " request");
        if (at(c, "resources.limits.memory") == null) p.add("container: no memory limit");
        if (!Boolean.TRUE.equals(at(pod, "securityContext.runAsNonRoot"))) p.add("pod: not runAsNonRoot");

        Map<String, String> env = new LinkedHashMap<>();
        for (Object o : list(c.get("env"))) {
            Map<String, Object> e = cast(o);
            if (e.get("value") instanceof String v) env.put((String) e.get("name"), v);
            Map<String, Object> secret = cast(at(e, "valueFrom.secretKeyRef"));
            if (secret != null && Kustomize.find(resources, "Secret", (String) secret.get("name")) == null && !Boolean.TRUE.equals(secret.get("optional"))) {
                p.add("env " + e.get("name") + ": Secret " + secret.get("name") + " is not part of the manifests and the reference is not optional");
            }
        }

        // Volumes: declared, existing, mounted where the gateway reads and writes.
        Map<String, Map<String, Object>> volumes = new HashMap<>();
        for (Object o : list(pod.get("volumes"))) volumes.put((String) cast(o).get("name"), cast(o));
        Map<String, String> mounts = new LinkedHashMap<>(); // mountPath -> volume
        for (Object o : list(c.get("volumeMounts"))) {
            Map<String, Object> m = cast(o);
            mounts.put((String) m.get("mountPath"), (String) m.get("name"));
            if (!volumes.containsKey((String) m.get("name"))) p.add("volumeMount " + m.get("mountPath") + ": no volume " + m.get("name"));
        }
        for (Map<String, Object> v : volumes.values()) {
            Object cmName = at(v, "configMap.name");
            if (cmName != null && Kustomize.find(resources, "ConfigMap", (String) cmName) == null) p.add("volume " + v.get("name") + ": no ConfigMap " + cmName);
            if (!mounts.containsValue((String) v.get("name"))) p.add("volume " + v.get("name") + " is not mounted");
        }
        String seed = env.get("HEADGATE_PROFILES_WATCH");
        if (seed == null) p.add("env: no HEADGATE_PROFILES_WATCH");
        for (Map<String, Object> r : resources) {
            Object model = at(r, "metadata.labels." + PROFILES_LABEL.replace(".", "\\."));
            if (!r.get("kind").equals("ConfigMap") || model == null) continue;
            String expected = seed + "/" + model;
            String volume = mounts.get(expected);
            if (volume == null || !Kustomize.name(r).equals(at(volumes.get(volume), "configMap.name"))) {
                p.add("ConfigMap " + Kustomize.name(r) + " (profiles of " + model + ") is not mounted at " + expected);
            }
        }
        if (Boolean.TRUE.equals(at(c, "securityContext.readOnlyRootFilesystem"))) {
            boolean files = env.getOrDefault("HEADGATE_REGISTRY_BACKEND", "files").equals("files");
            for (String var : files ? List.of("HEADGATE_PROFILES_DIR", "HEADGATE_EXPERIMENTS_DIR", "HEADGATE_BUNDLE_CACHE", "DJL_CACHE_DIR")
                    : List.of("HEADGATE_BUNDLE_CACHE", "DJL_CACHE_DIR")) {
                String path = env.get(var);
                if (path == null) {
                    p.add("read-only root filesystem, and env " + var + " does not point at a writable volume");
                    continue;
                }
                if (!writable(path, mounts, volumes)) p.add("env " + var + "=" + path + " is not under a writable volume");
            }
            if (!writable("/tmp/x", mounts, volumes)) p.add("read-only root filesystem and no writable /tmp (ONNX Runtime unpacks its libraries there)");
        }

        // Termination: preStop, readiness DOWN for the delay, then the drain (QUARKUS_SHUTDOWN_TIMEOUT), all inside the grace period.
        long drain = env.containsKey("QUARKUS_SHUTDOWN_TIMEOUT") ? seconds(env.get("QUARKUS_SHUTDOWN_TIMEOUT")) : 0;
        long delay = env.containsKey("QUARKUS_SHUTDOWN_DELAY") ? seconds(env.get("QUARKUS_SHUTDOWN_DELAY")) : 0;
        if (drain < 60) p.add("QUARKUS_SHUTDOWN_TIMEOUT: running streams get " + drain + " s to finish");
        long preStop = 0;
        List<Object> preStopCommand = list(at(c, "lifecycle.preStop.exec.command"));
        if (preStopCommand.size() == 2 && "sleep".equals(preStopCommand.get(0))) preStop = seconds((String) preStopCommand.get(1));
        long grace = num(pod.get("terminationGracePeriodSeconds"), 30);
        if (grace <= preStop + delay + drain) {
            p.add("terminationGracePeriodSeconds " + grace + " <= preStop " + preStop + " s + delay " + delay + " s + drain " + drain + " s");
        }

        // Services onto the container port; one headless.
        // (the registry's etcd Services select its members: registryProblems checks them)
        List<Map<String, Object>> services = resources.stream().filter(r -> r.get("kind").equals("Service")
                && !"registry".equals(at(r, "metadata.labels.app\\.kubernetes\\.io/component"))).toList();
        boolean headless = false, virtualIp = false;
        for (Map<String, Object> s : services) {
            if (!subset(cast(at(s, "spec.selector")), podLabels)) p.add("Service " + Kustomize.name(s) + ": selector does not match the pod labels");
            for (Object o : list(at(s, "spec.ports"))) {
                Object target = cast(o).getOrDefault("targetPort", cast(o).get("port"));
                if (!Integer.valueOf(httpPort).equals(resolvePort(target, containerPorts))) p.add("Service " + Kustomize.name(s) + ": targetPort " + target + " is not the container's port");
            }
            if ("None".equals(at(s, "spec.clusterIP"))) headless = true;
            else virtualIp = true;
        }
        if (!headless || !virtualIp) p.add("expected a Service with a virtual IP and a headless one");

        // Autoscaler on the Deployment and on exported gauges that the Prometheus adapter serves.
        Map<String, Object> hpa = one(resources, "HorizontalPodAutoscaler");
        if (!"Deployment".equals(at(hpa, "spec.scaleTargetRef.kind")) || !Kustomize.name(deployment).equals(at(hpa, "spec.scaleTargetRef.name"))
                || !"apps/v1".equals(at(hpa, "spec.scaleTargetRef.apiVersion"))) {
            p.add("HPA: does not target Deployment " + Kustomize.name(deployment));
        }
        long min = num(at(hpa, "spec.minReplicas"), 1), max = num(at(hpa, "spec.maxReplicas"), 0);
        if (min < 2 || max < min) p.add("HPA: replicas " + min + ".." + max + " (at least 2, so a drain leaves one serving)");
        Set<String> served = adapterMetrics();
        for (Object o : list(at(hpa, "spec.metrics"))) {
            Object name = at(cast(o), "pods.metric.name");
            if (!"Pods".equals(cast(o).get("type")) || !LOAD_GAUGES.contains(name)) p.add("HPA: metric " + o + " is not a per-pod gauge of the gateway " + LOAD_GAUGES);
            else if (!served.contains(name)) p.add("HPA: metric " + name + " has no rule in k8s/monitoring/prometheus-adapter-values.yaml");
        }

        // Disruption budget on the pods, allowing a drain.
        List<Map<String, Object>> gatewayBudgets = resources.stream().filter(r -> r.get("kind").equals("PodDisruptionBudget")
                && subset(cast(at(r, "spec.selector.matchLabels")), podLabels)).toList();
        assertThat(gatewayBudgets).as("disruption budgets of the gateway's pods").hasSize(1);
        Map<String, Object> pdb = gatewayBudgets.get(0);
        if (!subset(cast(at(pdb, "spec.selector.matchLabels")), podLabels) || cast(at(pdb, "spec.selector.matchLabels")).isEmpty()) {
            p.add("PDB: selector does not match the pod labels");
        }
        Object maxUnavailable = at(pdb, "spec.maxUnavailable"), minAvailable = at(pdb, "spec.minAvailable");
        if (!(maxUnavailable instanceof Integer mu && mu >= 1) && !(minAvailable instanceof Integer ma && ma < min)) {
            p.add("PDB: blocks every voluntary disruption at the minimum replica count");
        }

        // ServiceMonitor: exactly one Service, its port, the metrics path.
        Map<String, Object> monitor = one(resources, "ServiceMonitor");
        List<Map<String, Object>> scraped = services.stream()
                .filter(s -> subset(cast(at(monitor, "spec.selector.matchLabels")), cast(at(s, "metadata.labels")))).toList();
        if (scraped.size() != 1) p.add("ServiceMonitor: selects " + scraped.size() + " Services, not exactly one (each pod is scraped once per Service)");
        for (Object o : list(at(monitor, "spec.endpoints"))) {
            Map<String, Object> endpoint = cast(o);
            if (!"/q/metrics".equals(endpoint.get("path"))) p.add("ServiceMonitor: path " + endpoint.get("path"));
            if (scraped.size() == 1 && list(at(scraped.get(0), "spec.ports")).stream().noneMatch(sp -> cast(sp).get("name").equals(endpoint.get("port")))) {
                p.add("ServiceMonitor: port " + endpoint.get("port") + " is not a port of Service " + Kustomize.name(scraped.get(0)));
            }
        }
        p.addAll(registryProblems(resources, env));
        return p;
    }

    /** Metric names the Prometheus adapter rules expose (their seriesQuery's metric). */
    static Set<String> adapterMetrics() throws IOException {
        Map<String, Object> values = Kustomize.load(K8S.resolve("monitoring/prometheus-adapter-values.yaml")).get(0);
        Set<String> names = new TreeSet<>();
        for (Object rule : list(at(values, "rules.custom"))) {
            Matcher m = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)").matcher((String) cast(rule).get("seriesQuery"));
            if (m.find()) names.add(m.group(1));
        }
        return names;
    }

    private static boolean writable(String path, Map<String, String> mounts, Map<String, Map<String, Object>> volumes) {
        return mounts.entrySet().stream().anyMatch(m -> (path + "/").startsWith(m.getKey() + "/")
                && volumes.get(m.getValue()) != null
                && (volumes.get(m.getValue()).containsKey("emptyDir") || volumes.get(m.getValue()).containsKey("persistentVolumeClaim")));
    }

    private static Integer resolvePort(Object port, Map<String, Integer> containerPorts) {
        if (port instanceof Integer i) return i;
        return containerPorts.get(port);
    }

    /** "120s", "2m", "10" (seconds). */
    static long seconds(String s) {
        Matcher m = Pattern.compile("(\\d+)([smh]?)").matcher(s.trim());
        if (!m.matches()) throw new IllegalArgumentException("not a duration in s, m or h: " + s);
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "m" -> n * 60;
            case "h" -> n * 3600;
            default -> n;
        };
    }

    /** The container's literal environment (values, not references). */
    static Map<String, String> env(Map<String, Object> container) {
        Map<String, String> env = new LinkedHashMap<>();
        for (Object o : list(container.get("env"))) if (cast(o).get("value") instanceof String v) env.put((String) cast(o).get("name"), v);
        return env;
    }

    static Map<String, Object> etcdContainer(List<Map<String, Object>> resources) {
        return list(at(one(resources, "StatefulSet"), "spec.template.spec.containers")).stream().map(KubernetesManifestsTest::cast)
                .filter(c -> "etcd".equals(c.get("name"))).findFirst().orElseThrow(() -> new AssertionError("no container named etcd"));
    }

    /** etcd's flags as --name=value pairs (flags without a value map to "true"). */
    static Map<String, String> flags(Map<String, Object> container) {
        Map<String, String> flags = new LinkedHashMap<>();
        for (Object a : list(container.get("args"))) {
            String arg = (String) a;
            if (!arg.startsWith("--")) continue;
            int eq = arg.indexOf('=');
            flags.put(eq < 0 ? arg.substring(2) : arg.substring(2, eq), eq < 0 ? "true" : arg.substring(eq + 1));
        }
        return flags;
    }

    /**
     * The registry: with the etcd backend, endpoints that reach an etcd of ours through a Service on
     * its client port, or (no etcd in the manifests) somewhere else; our etcd forms the cluster its
     * flags describe and keeps its quorum through a voluntary disruption.
     */
    static List<String> registryProblems(List<Map<String, Object>> resources, Map<String, String> env) {
        List<String> p = new ArrayList<>();
        String backend = env.getOrDefault("HEADGATE_REGISTRY_BACKEND", "files");
        List<Map<String, Object>> statefulSets = resources.stream().filter(r -> r.get("kind").equals("StatefulSet")).toList();
        if (backend.equals("files")) {
            if (!statefulSets.isEmpty()) p.add("an etcd StatefulSet, but the gateway's registry is on files");
            return p;
        }
        if (!backend.equals("etcd")) return List.of("HEADGATE_REGISTRY_BACKEND: '" + backend + "' is not files or etcd");
        String endpoints = env.get("HEADGATE_REGISTRY_ETCD_ENDPOINTS");
        if (endpoints == null || endpoints.isBlank()) return List.of("HEADGATE_REGISTRY_BACKEND=etcd without HEADGATE_REGISTRY_ETCD_ENDPOINTS");
        if (statefulSets.isEmpty()) {
            for (String url : endpoints.split(",")) {
                String host = java.net.URI.create(url.trim()).getHost();
                if (Kustomize.find(resources, "Service", host.split("\\.")[0]) != null) p.add("endpoint " + url + " names a Service of ours, but there is no etcd");
            }
            return p;
        }
        if (statefulSets.size() != 1) return List.of(statefulSets.size() + " StatefulSets; expected one etcd");
        Map<String, Object> sts = statefulSets.get(0);
        String name = Kustomize.name(sts);
        Map<String, Object> podLabels = cast(at(sts, "spec.template.metadata.labels"));
        Map<String, Object> etcd = etcdContainer(resources);
        Map<String, Integer> ports = new HashMap<>();
        for (Object o : list(etcd.get("ports"))) ports.put((String) cast(o).get("name"), (Integer) cast(o).get("containerPort"));
        Integer client = ports.get("client"), peer = ports.get("peer");
        if (client == null || peer == null) return List.of("etcd container: needs ports named client and peer, has " + ports);
        if (!subset(cast(at(sts, "spec.selector.matchLabels")), podLabels)) p.add("StatefulSet " + name + ": selector does not match its pod labels");
        long replicas = num(at(sts, "spec.replicas"), 1);
        if (replicas < 3 || replicas % 2 == 0) p.add("StatefulSet " + name + ": " + replicas + " members; an odd number of at least 3 survives losing one");
        if (!"Parallel".equals(at(sts, "spec.podManagementPolicy"))) p.add("StatefulSet " + name + ": members must start in parallel to form a quorum");

        // the peers' Service: headless, publishing members before they are ready, on the peer port
        String serviceName = (String) at(sts, "spec.serviceName");
        Map<String, Object> peers = serviceName == null ? null : Kustomize.find(resources, "Service", serviceName);
        if (peers == null) p.add("StatefulSet " + name + ": serviceName " + serviceName + " is not a Service");
        else {
            if (!"None".equals(at(peers, "spec.clusterIP"))) p.add("Service " + serviceName + ": the members' names need a headless Service");
            if (!Boolean.TRUE.equals(at(peers, "spec.publishNotReadyAddresses"))) p.add("Service " + serviceName + ": must publish members before they are ready");
            if (!subset(cast(at(peers, "spec.selector")), podLabels)) p.add("Service " + serviceName + ": does not select the etcd members");
            if (list(at(peers, "spec.ports")).stream().noneMatch(o -> peer.equals(resolvePort(cast(o).getOrDefault("targetPort", cast(o).get("port")), ports)))) {
                p.add("Service " + serviceName + ": no peer port " + peer);
            }
        }

        // the flags: one member per pod, named by the pod, peers at their stable names
        Map<String, String> f = flags(etcd);
        Map<String, String> podEnv = new HashMap<>();
        for (Object o : list(etcd.get("env"))) {
            if (at(cast(o), "valueFrom.fieldRef.fieldPath") instanceof String field) podEnv.put(field, (String) cast(o).get("name"));
        }
        String podName = "$(" + podEnv.get("metadata.name") + ")", namespace = "$(" + podEnv.get("metadata.namespace") + ")";
        if (!podName.equals(f.get("name"))) p.add("etcd: --name is not the pod's name " + podName);
        String member = "http://" + podName + "." + serviceName + "." + namespace + ".svc:";
        if (!(member + peer).equals(f.get("initial-advertise-peer-urls"))) p.add("etcd: --initial-advertise-peer-urls " + f.get("initial-advertise-peer-urls") + ", expected " + member + peer);
        if (!(member + client).equals(f.get("advertise-client-urls"))) p.add("etcd: --advertise-client-urls " + f.get("advertise-client-urls") + ", expected " + member + client);
        List<String> cluster = new ArrayList<>();
        for (int i = 0; i < replicas; i++) cluster.add(name + "-" + i + "=http://" + name + "-" + i + "." + serviceName + "." + namespace + ".svc:" + peer);
        if (!String.join(",", cluster).equals(f.get("initial-cluster"))) p.add("etcd: --initial-cluster " + f.get("initial-cluster") + ", expected " + String.join(",", cluster));
        if (!("http://0.0.0.0:" + client).equals(f.get("listen-client-urls"))) p.add("etcd: --listen-client-urls is not port " + client);
        if (!("http://0.0.0.0:" + peer).equals(f.get("listen-peer-urls"))) p.add("etcd: --listen-peer-urls is not port " + peer);
        String dataDir = f.get("data-dir");
        Set<String> claims = list(at(sts, "spec.volumeClaimTemplates")).stream().map(o -> (String) at(o, "metadata.name")).collect(Collectors.toSet());
        boolean persisted = list(etcd.get("volumeMounts")).stream().anyMatch(o -> claims.contains((String) cast(o).get("name"))
                && dataDir != null && (dataDir + "/").startsWith(cast(o).get("mountPath") + "/"));
        if (!persisted) p.add("etcd: --data-dir " + dataDir + " is not on a volume claim: members would lose the registry on restart");
        for (String probe : List.of("readinessProbe", "livenessProbe")) {
            if (!client.equals(resolvePort(at(etcd, probe + ".httpGet.port"), ports))) p.add("etcd: " + probe + " is not on the client port");
        }

        // the gateway's endpoints reach a member's client port through a Service of ours
        for (String url : endpoints.split(",")) {
            java.net.URI uri = java.net.URI.create(url.trim());
            Map<String, Object> service = Kustomize.find(resources, "Service", uri.getHost().split("\\.")[0]);
            if (service == null) {
                p.add("endpoint " + url + ": no Service " + uri.getHost() + " in the manifests");
                continue;
            }
            if (!subset(cast(at(service, "spec.selector")), podLabels)) p.add("endpoint " + url + ": Service " + Kustomize.name(service) + " does not select the etcd members");
            boolean onClientPort = list(at(service, "spec.ports")).stream().anyMatch(o -> Integer.valueOf(uri.getPort()).equals(cast(o).get("port"))
                    && client.equals(resolvePort(cast(o).getOrDefault("targetPort", cast(o).get("port")), ports)));
            if (!onClientPort) p.add("endpoint " + url + ": Service " + Kustomize.name(service) + " has no port " + uri.getPort() + " onto etcd's client port");
        }

        // a voluntary disruption keeps the quorum
        List<Map<String, Object>> budgets = resources.stream().filter(r -> r.get("kind").equals("PodDisruptionBudget")
                && subset(cast(at(r, "spec.selector.matchLabels")), podLabels)).toList();
        if (budgets.size() != 1) p.add(budgets.size() + " disruption budgets cover the etcd members; expected one");
        else if (!(at(budgets.get(0), "spec.maxUnavailable") instanceof Integer mu && mu >= 1 && mu <= (replicas - 1) / 2)) {
            p.add("etcd PDB: maxUnavailable must leave a quorum (1.." + (replicas - 1) / 2 + ")");
        }
        return p;
    }

    static Properties applicationProperties() throws IOException {
        Properties props = new Properties();
        try (var in = Files.newInputStream(Path.of("src/main/resources/application.properties"))) {
            props.load(in);
        }
        return props;
    }

    static Map<String, Object> deployment(List<Map<String, Object>> resources) {
        return one(resources, "Deployment");
    }

    static Map<String, Object> container(Map<String, Object> deployment) {
        return list(at(deployment, "spec.template.spec.containers")).stream().map(KubernetesManifestsTest::cast)
                .filter(c -> "headgate".equals(c.get("name"))).findFirst().orElseThrow(() -> new AssertionError("no container named headgate"));
    }

    private static Map<String, Object> one(List<Map<String, Object>> resources, String kind) {
        List<Map<String, Object>> found = resources.stream().filter(r -> kind.equals(r.get("kind"))).toList();
        assertThat(found).as("resources of kind " + kind).hasSize(1);
        return found.get(0);
    }

    private static Map<String, Map<String, Object>> byId(List<Map<String, Object>> resources) {
        Map<String, Map<String, Object>> out = new TreeMap<>();
        for (Map<String, Object> r : resources) out.put(r.get("kind") + "/" + at(r, "metadata.namespace") + "/" + Kustomize.name(r), r);
        return out;
    }

    private static boolean subset(Map<String, Object> labels, Map<String, Object> of) {
        return labels != null && of != null && !labels.isEmpty() && of.entrySet().containsAll(labels.entrySet());
    }

    /** The value at a dotted path ("\\." escapes a dot inside a key), or null. */
    static Object at(Object root, String path) {
        Object o = root;
        for (String key : path.split("(?<!\\\\)\\.")) {
            if (!(o instanceof Map<?, ?> m)) return null;
            o = m.get(key.replace("\\.", "."));
        }
        return o;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> cast(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) {
        return o == null ? List.of() : (List<Object>) o;
    }

    private static long num(Object o, long otherwise) {
        return o instanceof Number n ? n.longValue() : otherwise;
    }

    static boolean onPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) return false;
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) return true;
        }
        return false;
    }

    @SuppressWarnings("unchecked")
    private static Object envValue(Map<String, Object> container, String name) {
        for (Object e : (List<Object>) container.get("env")) {
            Map<String, Object> entry = (Map<String, Object>) e;
            if (name.equals(entry.get("name"))) return entry.get("value");
        }
        return null;
    }
}
