package io.headgate.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The Grafana dashboard in grafana/: its panels' queries and its variables, and the substitution Grafana does. */
final class Dashboard {

    static final Path FILE = Path.of("grafana", "headgate-dashboard.json");
    /** Grafana's built-in variables the queries may use. */
    static final List<String> BUILT_INS = List.of("__rate_interval", "__interval", "__range");

    private static final Pattern VARIABLE = Pattern.compile("\\$\\{(\\w+)(?::[\\w]+)?}|\\$(\\w+)");
    private static final Pattern LABEL_VALUES = Pattern.compile("^label_values\\((.+),\\s*(\\w+)\\)$");

    /** One query of a panel. */
    record Query(String panel, String refId, String expr) {
        @Override
        public String toString() {
            return "panel \"" + panel + "\" query " + refId + ": " + expr;
        }
    }

    final JsonNode json;

    private Dashboard(JsonNode json) {
        this.json = json;
    }

    static Dashboard load() throws IOException {
        return new Dashboard(new ObjectMapper().readTree(FILE.toFile()));
    }

    /** Every panel, rows included, with the panels nested in collapsed rows. */
    List<JsonNode> panels() {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode p : json.path("panels")) {
            out.add(p);
            for (JsonNode nested : p.path("panels")) out.add(nested);
        }
        return out;
    }

    List<Query> queries() {
        List<Query> out = new ArrayList<>();
        for (JsonNode p : panels()) {
            for (JsonNode t : p.path("targets")) out.add(new Query(p.path("title").asText(), t.path("refId").asText(), t.path("expr").asText()));
        }
        return out;
    }

    JsonNode variable(String name) {
        for (JsonNode v : json.path("templating").path("list")) {
            if (v.path("name").asText().equals(name)) return v;
        }
        return null;
    }

    /** A query variable's PromQL: {@code label_values(SELECTOR, LABEL)} becomes {@code count by (LABEL) (SELECTOR)}. */
    static String variableQuery(JsonNode variable) {
        String q = variable.path("query").isObject() ? variable.path("query").path("query").asText() : variable.path("query").asText();
        Matcher m = LABEL_VALUES.matcher(q.trim());
        if (!m.matches()) throw new IllegalArgumentException("variable " + variable.path("name").asText() + ": not label_values(SELECTOR, LABEL): " + q);
        return "count by (" + m.group(2) + ") (" + m.group(1) + ")";
    }

    /** Names of the variables an expression uses, $name and ${name} alike. */
    static List<String> variablesIn(String expr) {
        List<String> names = new ArrayList<>();
        Matcher m = VARIABLE.matcher(expr);
        while (m.find()) names.add(m.group(1) != null ? m.group(1) : m.group(2));
        return names;
    }

    /** Substitutes every variable as Grafana would; a variable without a value fails. */
    static String substitute(String expr, Map<String, String> values) {
        Matcher m = VARIABLE.matcher(expr);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1) != null ? m.group(1) : m.group(2);
            String value = values.get(name);
            if (value == null) throw new IllegalArgumentException("no value for $" + name + " in " + expr);
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }
}
