package io.headgate.effect.forecast;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A held-out evaluation set of real series ({@code heldout-series.json} beside a forecaster's
 * checkpoint): per series its name, source, frequency, season length, horizon, number of rolling
 * windows and held-out length, and its values (null for missing).
 */
public record HeldOutSet(List<HeldOutSeries> series) {

    public HeldOutSet {
        series = List.copyOf(series);
    }

    public static HeldOutSet read(Path file) throws IOException {
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        JsonNode list = root == null ? null : root.get("series");
        if (list == null || !list.isArray()) throw new IOException(file + " has no 'series' list");
        List<HeldOutSeries> out = new ArrayList<>();
        for (JsonNode s : list) {
            JsonNode v = s.get("values");
            double[] values = new double[v.size()];
            for (int i = 0; i < values.length; i++) values[i] = v.get(i).isNull() ? Double.NaN : v.get(i).asDouble();
            out.add(new HeldOutSeries(s.get("name").asText(), s.path("source").asText(""), s.get("frequency").asText(),
                    s.get("season_length").asInt(), s.get("horizon").asInt(), s.get("windows").asInt(), s.get("test_length").asInt(), values));
        }
        return new HeldOutSet(out);
    }

    /** Every rolling origin of every series, series by series. */
    public List<HeldOutWindow> windows() {
        List<HeldOutWindow> out = new ArrayList<>();
        for (HeldOutSeries s : series) out.addAll(s.rollingOrigins());
        return out;
    }

    /** The frequencies present, in order of first appearance. */
    public Set<String> frequencies() {
        Set<String> out = new LinkedHashSet<>();
        series.forEach(s -> out.add(s.frequency()));
        return out;
    }
}
