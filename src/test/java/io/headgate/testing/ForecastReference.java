package io.headgate.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.headgate.model.BundleManifest.Dimensions;
import io.headgate.model.ControlRow;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reference outputs of the PyTorch forecaster (training/train_series_tsfm.py, float64): real
 * contexts with the preprocessing they get (loc, scale, the normalised window and its observed
 * flags) and, for every context under identity and every control setting, the normalised quantiles
 * [horizon][levels] and each head's relative output norm [layers][heads].
 */
public record ForecastReference(List<Double> levels, int horizon, Map<String, JsonNode> settings, Map<String, Input> inputs,
                                List<Case> cases) {

    public record Input(String name, double[] context, double loc, double scale, double[] pastValues, double[] pastObserved) {
    }

    /** normalized [horizon][levels]; headNormRatio [layers][heads], the analysis output. */
    public record Case(String input, String setting, double[][] normalized, double[][] headNormRatio) {
        @Override
        public String toString() {
            return input + "/" + setting;
        }
    }

    /** The control row of a named setting ("identity" or one of {@link #settings}). */
    public ControlRow controls(String setting, Dimensions d) {
        ControlRow row = ControlRow.identity(d);
        JsonNode s = settings.get(setting);
        if (s == null) return row;
        fill(s.get("gain"), row.gain());
        fill(s.get("bias"), row.bias());
        fill(s.get("mix"), row.mix());
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

    public static double[] doubles(JsonNode array) {
        double[] out = new double[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).isNull() ? Double.NaN : array.get(i).asDouble();
        return out;
    }

    private static double[][] matrix(JsonNode rows) {
        double[][] out = new double[rows.size()][];
        for (int i = 0; i < out.length; i++) out[i] = doubles(rows.get(i));
        return out;
    }

    public static ForecastReference read(Path file) throws IOException {
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        List<Double> levels = new ArrayList<>();
        root.get("quantiles").forEach(q -> levels.add(q.asDouble()));
        Map<String, JsonNode> settings = new LinkedHashMap<>();
        root.get("settings").fields().forEachRemaining(e -> settings.put(e.getKey(), e.getValue()));
        Map<String, Input> inputs = new LinkedHashMap<>();
        for (JsonNode i : root.get("inputs")) {
            inputs.put(i.get("name").asText(), new Input(i.get("name").asText(), doubles(i.get("context")), i.get("loc").asDouble(),
                    i.get("scale").asDouble(), doubles(i.get("past_values")), doubles(i.get("past_observed"))));
        }
        List<Case> cases = new ArrayList<>();
        for (JsonNode c : root.get("cases")) {
            JsonNode q = c.get("normalized");
            double[][] normalized = new double[q.size()][];
            for (int t = 0; t < normalized.length; t++) normalized[t] = doubles(q.get(t));
            cases.add(new Case(c.get("input").asText(), c.get("setting").asText(), normalized, matrix(c.get("head_norm_ratio"))));
        }
        return new ForecastReference(levels, root.get("horizon").asInt(), settings, inputs, cases);
    }
}
