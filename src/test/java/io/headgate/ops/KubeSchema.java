package io.headgate.ops;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Schema validation of rendered manifests against Fabric8's typed Kubernetes models (generated from
 * the Kubernetes OpenAPI schema, and the Prometheus Operator's CRDs): each resource must bind to the
 * model of its apiVersion and kind, every value to its field's type, and no field may be unknown
 * (Fabric8 keeps unknown fields aside in {@code additionalProperties}, which must stay empty).
 */
final class KubeSchema {

    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    private static final Map<String, Class<?>> MODELS = Map.of(
            "v1/Namespace", io.fabric8.kubernetes.api.model.Namespace.class,
            "v1/ServiceAccount", io.fabric8.kubernetes.api.model.ServiceAccount.class,
            "v1/ConfigMap", io.fabric8.kubernetes.api.model.ConfigMap.class,
            "v1/Service", io.fabric8.kubernetes.api.model.Service.class,
            "apps/v1/Deployment", io.fabric8.kubernetes.api.model.apps.Deployment.class,
            "apps/v1/StatefulSet", io.fabric8.kubernetes.api.model.apps.StatefulSet.class,
            "autoscaling/v2/HorizontalPodAutoscaler", io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler.class,
            "policy/v1/PodDisruptionBudget", io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget.class,
            "monitoring.coreos.com/v1/ServiceMonitor", io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor.class);

    private KubeSchema() {
    }

    /** Problems found in one resource, each naming the resource and the path of the field; empty if it validates. */
    static List<String> validate(Map<String, Object> resource) {
        String id = resource.get("kind") + "/" + Kustomize.name(resource);
        List<String> problems = new ArrayList<>();
        if (!(resource.get("apiVersion") instanceof String api) || api.isBlank()) problems.add(id + ": apiVersion missing");
        if (!(resource.get("kind") instanceof String kind) || kind.isBlank()) problems.add(id + ": kind missing");
        if (Kustomize.name(resource) == null || Kustomize.name(resource).isBlank()) problems.add(id + ": metadata.name missing");
        if (!problems.isEmpty()) return problems;
        Class<?> model = MODELS.get(resource.get("apiVersion") + "/" + resource.get("kind"));
        if (model == null) return List.of(id + ": no schema for " + resource.get("apiVersion") + " " + resource.get("kind") + " (known: " + MODELS.keySet() + ")");
        Object typed;
        try {
            typed = JSON.convertValue(resource, model);
        } catch (IllegalArgumentException e) {
            return List.of(id + ": does not match the schema of " + model.getSimpleName() + ": " + e.getMessage());
        }
        unknownFields(typed, id, problems);
        return problems;
    }

    private static void unknownFields(Object o, String path, List<String> out) {
        if (o == null) return;
        if (o instanceof Map<?, ?> m) {
            m.forEach((k, v) -> unknownFields(v, path + "." + k, out));
            return;
        }
        if (o instanceof List<?> l) {
            for (int i = 0; i < l.size(); i++) unknownFields(l.get(i), path + "[" + i + "]", out);
            return;
        }
        Class<?> c = o.getClass();
        if (!c.getName().startsWith("io.fabric8.") || c.isEnum()) return;
        for (Method g : c.getMethods()) {
            if (g.getParameterCount() != 0 || Modifier.isStatic(g.getModifiers()) || !g.getName().startsWith("get")
                    || g.getName().equals("getClass") || !g.getDeclaringClass().getName().startsWith("io.fabric8.")) {
                continue;
            }
            Object value;
            try {
                value = g.invoke(o);
            } catch (ReflectiveOperationException | RuntimeException e) {
                continue; // a derived property that does not apply to this object
            }
            if (g.getName().equals("getAdditionalProperties")) {
                if (value instanceof Map<?, ?> extra && !extra.isEmpty()) out.add(path + ": unknown field(s) " + extra.keySet());
            } else if (g.getDeclaringClass() == c || !g.getDeclaringClass().isInterface()) {
                String field = Character.toLowerCase(g.getName().charAt(3)) + g.getName().substring(4);
                unknownFields(value, path + "." + field, out);
            }
        }
    }
}
