package io.headgate.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.headgate.model.BundleManifest.Dimensions;
import io.headgate.model.ControlRow;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reference outputs of the PyTorch model (training/llama_ref.py, float64): for each case the token
 * sequence, the prompt length, the control segments (each active from a position on) and the
 * logits at every position.
 */
public record ReferenceFixture(String model, List<Case> cases) {

    public record Segment(int from, JsonNode controls) {
        public ControlRow row(Dimensions d) {
            ControlRow row = ControlRow.identity(d);
            fill(controls.get("gain"), row.gain());
            fill(controls.get("bias"), row.bias());
            fill(controls.get("mix"), row.mix());
            return row;
        }

        private static void fill(JsonNode nested, float[] out) {
            if (nested == null) return;
            List<Double> flat = new ArrayList<>();
            flatten(nested, flat);
            if (flat.size() != out.length) throw new IllegalStateException("fixture control has " + flat.size() + " values, expected " + out.length);
            for (int i = 0; i < out.length; i++) out[i] = flat.get(i).floatValue();
        }

        private static void flatten(JsonNode n, List<Double> out) {
            if (n.isArray()) n.forEach(x -> flatten(x, out));
            else out.add(n.asDouble());
        }
    }

    public record Case(String name, long[] tokens, int promptLength, List<Segment> segments, double[][] logits) {
        /** The segment whose controls apply at {@code position}. */
        public Segment segmentAt(int position) {
            Segment current = segments.getFirst();
            for (Segment s : segments) if (s.from() <= position) current = s;
            return current;
        }
    }

    public static ReferenceFixture read(Path file) throws IOException {
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        List<Case> cases = new ArrayList<>();
        for (JsonNode c : root.get("cases")) {
            long[] tokens = new long[c.get("tokens").size()];
            for (int i = 0; i < tokens.length; i++) tokens[i] = c.get("tokens").get(i).asLong();
            List<Segment> segments = new ArrayList<>();
            c.get("segments").forEach(s -> segments.add(new Segment(s.get("from").asInt(), s)));
            double[][] logits = new double[c.get("logits").size()][];
            for (int t = 0; t < logits.length; t++) {
                JsonNode row = c.get("logits").get(t);
                logits[t] = new double[row.size()];
                for (int v = 0; v < row.size(); v++) logits[t][v] = row.get(v).asDouble();
            }
            cases.add(new Case(c.get("name").asText(), tokens, c.get("prompt_length").asInt(), segments, logits));
        }
        return new ReferenceFixture(root.get("model").asText(), cases);
    }
}
