package io.headgate.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reading a checkpoint's {@code config.json}: typed fields with defaults, errors naming the field. */
final class ConfigFields {
    private ConfigFields() {
    }

    static JsonNode read(Path configJson) throws IOException {
        if (!Files.isRegularFile(configJson)) {
            throw new CheckpointException("config.json is missing in " + configJson.getParent());
        }
        JsonNode c;
        try {
            c = new ObjectMapper().readTree(configJson.toFile());
        } catch (IOException e) {
            throw new CheckpointException("config.json is not valid JSON: " + e.getMessage(), e);
        }
        if (c == null || !c.isObject()) throw new CheckpointException("config.json is not a JSON object");
        return c;
    }

    static String text(JsonNode c, String field, String fallback) {
        JsonNode n = c.get(field);
        return n == null || n.isNull() ? fallback : n.asText();
    }

    static int integer(JsonNode c, String field, int fallback) {
        JsonNode n = c.get(field);
        if (n == null || n.isNull()) return fallback;
        if (!n.canConvertToInt() || !n.isIntegralNumber()) {
            throw new CheckpointException("config.json field '" + field + "' must be an integer, got " + n);
        }
        return n.asInt();
    }

    static double number(JsonNode c, String field, double fallback) {
        JsonNode n = c.get(field);
        if (n == null || n.isNull()) return fallback;
        if (!n.isNumber()) throw new CheckpointException("config.json field '" + field + "' must be a number, got " + n);
        return n.asDouble();
    }

    static boolean bool(JsonNode c, String field, boolean fallback) {
        JsonNode n = c.get(field);
        if (n == null || n.isNull()) return fallback;
        if (!n.isBoolean()) throw new CheckpointException("config.json field '" + field + "' must be true or false, got " + n);
        return n.asBoolean();
    }
}
