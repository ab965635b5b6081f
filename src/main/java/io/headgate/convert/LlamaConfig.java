package io.headgate.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The fields of a Hugging Face {@code config.json} that a Llama-family decoder needs, with the
 * defaults the Hugging Face classes use. Validated on construction; errors name the field.
 *
 * @param qkvBias     biases on q/k/v (Qwen2 always; Llama and Mistral when {@code attention_bias})
 * @param outputBias  bias on o_proj (Llama's {@code attention_bias} covers it, Qwen2 has none)
 * @param slidingWindow keys a query may see, itself included; 0 for none
 */
public record LlamaConfig(
        String modelType,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        double ropeTheta,
        RopeScaling ropeScaling,
        double rmsNormEps,
        int maxPositionEmbeddings,
        boolean tiedEmbeddings,
        boolean qkvBias,
        boolean outputBias,
        boolean mlpBias,
        int slidingWindow,
        List<Integer> bosTokenIds,
        List<Integer> eosTokenIds) {

    public static final Set<String> SUPPORTED_TYPES = Set.of("llama", "mistral", "qwen2");

    /** Rotary frequency scaling: {@code none}, {@code linear} or Llama 3's {@code llama3}. */
    public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
                              int originalMaxPositions) {
        public static final RopeScaling NONE = new RopeScaling("none", 1, 0, 0, 0);

        public RopeScaling {
            if (!Set.of("none", "linear", "llama3").contains(type)) {
                throw new CheckpointException("config.json field 'rope_scaling.rope_type' is '" + type
                        + "'; supported: linear, llama3 (or no rope_scaling)");
            }
            if (!(factor > 0)) throw new CheckpointException("config.json field 'rope_scaling.factor' must be > 0");
            if (type.equals("llama3") && (!(highFreqFactor > lowFreqFactor) || originalMaxPositions <= 0)) {
                throw new CheckpointException("config.json field 'rope_scaling' needs high_freq_factor > low_freq_factor"
                        + " and original_max_position_embeddings > 0 for llama3");
            }
        }

        /** Applies the scaling to the inverse frequencies of the rotary embedding. */
        double[] scale(double[] invFreq) {
            double[] out = invFreq.clone();
            switch (type) {
                case "linear" -> {
                    for (int i = 0; i < out.length; i++) out[i] /= factor;
                }
                case "llama3" -> {
                    double lowWavelength = originalMaxPositions / lowFreqFactor;
                    double highWavelength = originalMaxPositions / highFreqFactor;
                    for (int i = 0; i < out.length; i++) {
                        double wavelength = 2 * Math.PI / out[i];
                        if (wavelength > lowWavelength) {
                            out[i] /= factor;
                        } else if (wavelength >= highWavelength) {
                            double s = (originalMaxPositions / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                            out[i] = (1 - s) * out[i] / factor + s * out[i];
                        }
                    }
                }
                default -> { }
            }
            return out;
        }
    }

    public LlamaConfig {
        if (!SUPPORTED_TYPES.contains(modelType)) {
            throw new CheckpointException("config.json field 'model_type' is '" + modelType
                    + "'; supported: " + String.join(", ", SUPPORTED_TYPES.stream().sorted().toList())
                    + " (language models) and " + PatchLlamaConfig.MODEL_TYPE + " (forecasters)");
        }
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", layers);
        positive("num_attention_heads", heads);
        positive("num_key_value_heads", kvHeads);
        positive("head_dim", headDim);
        positive("max_position_embeddings", maxPositionEmbeddings);
        if (heads % kvHeads != 0) {
            throw new CheckpointException("config.json field 'num_key_value_heads' (" + kvHeads
                    + ") must divide num_attention_heads (" + heads + ")");
        }
        if (headDim % 2 != 0) throw new CheckpointException("config.json field 'head_dim' must be even for rotary embeddings");
        if (!(ropeTheta > 0)) throw new CheckpointException("config.json field 'rope_theta' must be > 0");
        if (!(rmsNormEps > 0)) throw new CheckpointException("config.json field 'rms_norm_eps' must be > 0");
        if (slidingWindow < 0) throw new CheckpointException("config.json field 'sliding_window' must be >= 0");
        bosTokenIds = List.copyOf(bosTokenIds);
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    private static void positive(String field, int value) {
        if (value <= 0) throw new CheckpointException("config.json field '" + field + "' must be a positive integer, got " + value);
    }

    public static LlamaConfig read(Path configJson) throws IOException {
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
        String type = text(c, "model_type", null);
        if (type == null) throw new CheckpointException("config.json field 'model_type' is missing");
        String act = text(c, "hidden_act", "silu");
        if (!act.equals("silu")) {
            throw new CheckpointException("config.json field 'hidden_act' is '" + act + "'; only silu (SwiGLU) is supported");
        }
        int hidden = integer(c, "hidden_size", -1);
        int heads = integer(c, "num_attention_heads", -1);
        boolean attentionBias = c.path("attention_bias").asBoolean(false);
        boolean qwen2 = type.equals("qwen2");
        int window = 0;
        if (type.equals("mistral") || (qwen2 && c.path("use_sliding_window").asBoolean(false))) {
            window = integer(c, "sliding_window", 0);
        }
        return new LlamaConfig(
                type,
                integer(c, "vocab_size", -1),
                hidden,
                integer(c, "intermediate_size", -1),
                integer(c, "num_hidden_layers", -1),
                heads,
                integer(c, "num_key_value_heads", heads),
                integer(c, "head_dim", heads > 0 && hidden > 0 ? hidden / heads : -1),
                number(c, "rope_theta", 10000.0),
                ropeScaling(c.get("rope_scaling")),
                number(c, "rms_norm_eps", 1e-6),
                integer(c, "max_position_embeddings", 2048),
                c.path("tie_word_embeddings").asBoolean(false),
                qwen2 || attentionBias,
                !qwen2 && attentionBias,
                c.path("mlp_bias").asBoolean(false),
                window,
                ids(c.get("bos_token_id")),
                ids(c.get("eos_token_id")));
    }

    private static RopeScaling ropeScaling(JsonNode r) {
        if (r == null || r.isNull()) return RopeScaling.NONE;
        String type = r.has("rope_type") ? r.get("rope_type").asText() : r.path("type").asText("none");
        if (type.equals("default")) return RopeScaling.NONE;
        return new RopeScaling(type, r.path("factor").asDouble(1.0), r.path("low_freq_factor").asDouble(1.0),
                r.path("high_freq_factor").asDouble(4.0), r.path("original_max_position_embeddings").asInt(0));
    }

    private static String text(JsonNode c, String field, String fallback) {
        JsonNode n = c.get(field);
        return n == null || n.isNull() ? fallback : n.asText();
    }

    private static int integer(JsonNode c, String field, int fallback) {
        JsonNode n = c.get(field);
        if (n == null || n.isNull()) return fallback;
        if (!n.canConvertToInt()) throw new CheckpointException("config.json field '" + field + "' must be an integer, got " + n);
        return n.asInt();
    }

    private static double number(JsonNode c, String field, double fallback) {
        JsonNode n = c.get(field);
        if (n == null || n.isNull()) return fallback;
        if (!n.isNumber()) throw new CheckpointException("config.json field '" + field + "' must be a number, got " + n);
        return n.asDouble();
    }

    private static List<Integer> ids(JsonNode n) {
        List<Integer> out = new ArrayList<>();
        if (n == null || n.isNull()) return out;
        if (n.isArray()) n.forEach(x -> out.add(x.asInt()));
        else out.add(n.asInt());
        return out;
    }

    /** The decoder block shapes the block writer needs. */
    BlockShape blocks() {
        return new BlockShape(layers, hiddenSize, intermediateSize, heads, kvHeads, headDim, rmsNormEps, qkvBias, outputBias, mlpBias);
    }

    /** Rotary inverse frequencies θ^(−2i/Dh), i < Dh/2, after scaling. */
    public double[] ropeInverseFrequencies() {
        double[] inv = new double[headDim / 2];
        for (int i = 0; i < inv.length; i++) inv[i] = 1.0 / Math.pow(ropeTheta, (2.0 * i) / headDim);
        return ropeScaling.scale(inv);
    }
}
