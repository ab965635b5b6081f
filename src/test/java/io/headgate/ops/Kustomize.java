package io.headgate.ops;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The part of kustomize that Headgate's manifests use, so they can be rendered and checked where no
 * kustomize binary is installed: {@code resources} (files and kustomization directories),
 * {@code namespace}, and {@code patches} given as a strategic-merge patch file (one whose top level says
 * {@code $patch: delete} removes its target). Any other field of a
 * kustomization fails the rendering, so a manifest never silently relies on something this skips.
 * Where {@code kubectl} is installed, {@link KubernetesManifestsTest} checks that this rendering
 * equals {@code kubectl kustomize}'s.
 */
final class Kustomize {

    static final ObjectMapper YAML = new YAMLMapper(new YAMLFactory());

    private static final Set<String> SUPPORTED = Set.of("apiVersion", "kind", "namespace", "resources", "patches");
    private static final Set<String> CLUSTER_SCOPED = Set.of("Namespace", "ClusterRole", "ClusterRoleBinding",
            "CustomResourceDefinition", "PriorityClass", "StorageClass", "PersistentVolume");
    /** Strategic merge: lists merged element-wise by this key; every other list is replaced. */
    private static final Map<String, String> MERGE_KEYS = Map.of(
            "containers", "name", "initContainers", "name", "volumes", "name", "env", "name",
            "volumeMounts", "mountPath", "ports", "containerPort", "imagePullSecrets", "name");

    private Kustomize() {
    }

    /** The resources a kustomization directory renders to, in the order listed. */
    static List<Map<String, Object>> render(Path dir) throws IOException {
        Path file = dir.resolve("kustomization.yaml");
        if (!Files.isRegularFile(file)) throw new IOException("no kustomization.yaml in " + dir);
        Map<String, Object> k = map(YAML.readValue(file.toFile(), Map.class), file.toString());
        for (String field : k.keySet()) {
            if (!SUPPORTED.contains(field)) throw new IOException(file + ": kustomize field '" + field + "' is not supported by this renderer");
        }
        if (!"Kustomization".equals(k.get("kind"))) throw new IOException(file + ": kind is not Kustomization");
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object r : list(k.getOrDefault("resources", List.of()), file + ": resources")) {
            Path p = dir.resolve((String) r).normalize();
            if (Files.isDirectory(p)) out.addAll(render(p));
            else if (Files.isRegularFile(p)) out.addAll(load(p));
            else throw new IOException(file + ": resource " + r + " does not exist");
        }
        for (Object patch : list(k.getOrDefault("patches", List.of()), file + ": patches")) {
            Map<String, Object> pm = map(patch, file + ": patch");
            if (pm.size() != 1 || !(pm.get("path") instanceof String path)) {
                throw new IOException(file + ": only patches of the form {path: FILE} (strategic merge) are supported: " + pm);
            }
            for (Map<String, Object> p : load(dir.resolve(path))) {
                Map<String, Object> target = find(out, (String) p.get("kind"), name(p));
                if (target == null) throw new IOException(file + ": patch " + path + " targets " + p.get("kind") + "/" + name(p) + ", which is not a resource");
                if ("delete".equals(p.get("$patch"))) out.remove(target); // a strategic-merge patch that deletes the resource
                else merge(target, p);
            }
        }
        if (k.get("namespace") instanceof String ns) {
            for (Map<String, Object> r : out) {
                if (!CLUSTER_SCOPED.contains(r.get("kind"))) map(r.get("metadata"), "metadata").put("namespace", ns);
            }
        }
        return out;
    }

    /** Every YAML document in a file, skipping empty ones. */
    static List<Map<String, Object>> load(Path file) throws IOException {
        List<Map<String, Object>> docs = new ArrayList<>();
        try (var it = YAML.readerFor(Map.class).readValues(file.toFile())) {
            while (it.hasNext()) {
                Object doc = it.next();
                if (doc != null) docs.add(map(doc, file.toString()));
            }
        }
        return docs;
    }

    static Map<String, Object> find(List<Map<String, Object>> resources, String kind, String name) {
        for (Map<String, Object> r : resources) {
            if (kind.equals(r.get("kind")) && name.equals(name(r))) return r;
        }
        return null;
    }

    static String name(Map<String, Object> resource) {
        Object metadata = resource.get("metadata");
        return metadata instanceof Map<?, ?> m && m.get("name") instanceof String s ? s : null;
    }

    @SuppressWarnings("unchecked")
    private static void merge(Map<String, Object> base, Map<String, Object> patch) throws IOException {
        for (var e : patch.entrySet()) {
            String key = e.getKey();
            Object value = e.getValue();
            if (key.startsWith("$")) throw new IOException("strategic-merge directive " + key + " is not supported");
            Object current = base.get(key);
            if (value == null) {
                base.remove(key);
            } else if (current instanceof Map && value instanceof Map) {
                merge((Map<String, Object>) current, (Map<String, Object>) value);
            } else if (current instanceof List && value instanceof List && MERGE_KEYS.containsKey(key)) {
                mergeList((List<Object>) current, (List<Object>) value, MERGE_KEYS.get(key));
            } else {
                base.put(key, value);
            }
        }
    }

    /** Merges by key; as kustomize orders the result, the patch's items come first (in its order), then the base's others. */
    @SuppressWarnings("unchecked")
    private static void mergeList(List<Object> base, List<Object> patch, String key) throws IOException {
        List<Object> merged = new ArrayList<>();
        for (Object item : patch) {
            Map<String, Object> p = map(item, "list item");
            Map<String, Object> match = null;
            for (Object b : base) {
                if (b instanceof Map<?, ?> bm && p.get(key) != null && p.get(key).equals(bm.get(key))) match = (Map<String, Object>) bm;
            }
            if (match != null) {
                merge(match, p);
                base.remove(match);
                merged.add(match);
            } else {
                merged.add(new LinkedHashMap<>(p));
            }
        }
        merged.addAll(base);
        base.clear();
        base.addAll(merged);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o, String what) throws IOException {
        if (o instanceof Map<?, ?> m) return (Map<String, Object>) m;
        throw new IOException(what + ": expected a mapping, got " + o);
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o, String what) throws IOException {
        if (o instanceof List<?> l) return (List<Object>) l;
        throw new IOException(what + ": expected a list, got " + o);
    }
}
