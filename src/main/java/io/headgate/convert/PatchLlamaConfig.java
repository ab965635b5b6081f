package io.headgate.convert;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code config.json} of a patch forecaster ({@code model_type} {@value #MODEL_TYPE}): Llama
 * blocks over patches of a univariate series, with Llama's field names for the blocks and these for
 * the two ends:
 *
 * <ul>
 *   <li>{@code patch_length} P, {@code context_length} C (a multiple of P; N = C/P patches, at most
 *       {@code max_position_embeddings}): the graph reads the last C values, as N patches of
 *       [P normalised values | P observed flags] through a residual MLP ({@code patch_embed.*},
 *       hidden width {@code patch_embedding_hidden_size});</li>
 *   <li>{@code horizon_length} and {@code quantiles} (increasing, in (0, 1), 0.5 among them): the
 *       residual MLP {@code quantile_head.*} (hidden width {@code quantile_head_hidden_size}) maps the
 *       last patch's final state to horizon × quantile values;</li>
 *   <li>{@code normalization} {@code mean_std}: values are centred on the observed mean and divided by
 *       max(std, {@code min_scale_ratio}·max|x|) (1 when that is 0); forecasts are mapped back.</li>
 * </ul>
 *
 * Validated on construction; errors name the field.
 */
public record PatchLlamaConfig(
        int hiddenSize,
        int intermediateSize,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        double ropeTheta,
        double rmsNormEps,
        int maxPositionEmbeddings,
        boolean attentionBias,
        boolean mlpBias,
        int patchLength,
        int contextLength,
        int horizonLength,
        List<Double> quantiles,
        int patchEmbeddingHiddenSize,
        int quantileHeadHiddenSize,
        String normalization,
        double minScaleRatio) {

    public static final String MODEL_TYPE = "patch_llama";
    public static final String MEAN_STD = "mean_std";

    public PatchLlamaConfig {
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", layers);
        positive("num_attention_heads", heads);
        positive("num_key_value_heads", kvHeads);
        positive("head_dim", headDim);
        positive("patch_length", patchLength);
        positive("context_length", contextLength);
        positive("horizon_length", horizonLength);
        positive("patch_embedding_hidden_size", patchEmbeddingHiddenSize);
        positive("quantile_head_hidden_size", quantileHeadHiddenSize);
        if (heads % kvHeads != 0) {
            throw new CheckpointException("config.json field 'num_key_value_heads' (" + kvHeads
                    + ") must divide num_attention_heads (" + heads + ")");
        }
        if (headDim % 2 != 0) throw new CheckpointException("config.json field 'head_dim' must be even for rotary embeddings");
        if (!(ropeTheta > 0)) throw new CheckpointException("config.json field 'rope_theta' must be > 0");
        if (!(rmsNormEps > 0)) throw new CheckpointException("config.json field 'rms_norm_eps' must be > 0");
        if (contextLength % patchLength != 0) {
            throw new CheckpointException("config.json field 'context_length' (" + contextLength
                    + ") must be a multiple of patch_length (" + patchLength + ")");
        }
        if (maxPositionEmbeddings < contextLength / patchLength) {
            throw new CheckpointException("config.json field 'max_position_embeddings' (" + maxPositionEmbeddings
                    + ") is below the " + contextLength / patchLength + " patches of context_length / patch_length");
        }
        if (quantiles == null || quantiles.isEmpty()) throw new CheckpointException("config.json field 'quantiles' must be a non-empty list");
        for (int i = 0; i < quantiles.size(); i++) {
            double q = quantiles.get(i);
            if (!(q > 0 && q < 1)) throw new CheckpointException("config.json field 'quantiles' has " + q + " at index " + i + "; levels must lie in (0, 1)");
            if (i > 0 && !(q > quantiles.get(i - 1))) throw new CheckpointException("config.json field 'quantiles' must be strictly increasing (index " + i + ")");
        }
        if (!quantiles.contains(0.5)) throw new CheckpointException("config.json field 'quantiles' must contain 0.5 (the median is the point forecast)");
        quantiles = List.copyOf(quantiles);
        if (!MEAN_STD.equals(normalization)) {
            throw new CheckpointException("config.json field 'normalization' is '" + normalization + "'; supported: " + MEAN_STD);
        }
        if (!(minScaleRatio >= 0) || Double.isInfinite(minScaleRatio)) {
            throw new CheckpointException("config.json field 'min_scale_ratio' must be a finite number >= 0");
        }
    }

    private static void positive(String field, int value) {
        if (value <= 0) throw new CheckpointException("config.json field '" + field + "' must be a positive integer, got " + value);
    }

    /** Patches the graph reads. */
    public int patches() {
        return contextLength / patchLength;
    }

    BlockShape blocks() {
        return new BlockShape(layers, hiddenSize, intermediateSize, heads, kvHeads, headDim, rmsNormEps,
                attentionBias, attentionBias, mlpBias);
    }

    /** Reads a parsed config.json whose model_type is {@value #MODEL_TYPE}; refuses what the graph cannot express. */
    static PatchLlamaConfig parse(JsonNode c) {
        String act = ConfigFields.text(c, "hidden_act", "silu");
        if (!act.equals("silu")) {
            throw new CheckpointException("config.json field 'hidden_act' is '" + act + "'; only silu (SwiGLU) is supported");
        }
        JsonNode scaling = c.get("rope_scaling");
        if (scaling != null && !scaling.isNull()) {
            throw new CheckpointException("config.json field 'rope_scaling' is not supported for " + MODEL_TYPE + " (patch positions are few)");
        }
        JsonNode window = c.get("sliding_window");
        if (window != null && !window.isNull()) {
            throw new CheckpointException("config.json field 'sliding_window' is not supported for " + MODEL_TYPE);
        }
        int hidden = ConfigFields.integer(c, "hidden_size", -1);
        int heads = ConfigFields.integer(c, "num_attention_heads", -1);
        int patch = ConfigFields.integer(c, "patch_length", -1);
        int context = ConfigFields.integer(c, "context_length", -1);
        return new PatchLlamaConfig(
                hidden,
                ConfigFields.integer(c, "intermediate_size", -1),
                ConfigFields.integer(c, "num_hidden_layers", -1),
                heads,
                ConfigFields.integer(c, "num_key_value_heads", heads),
                ConfigFields.integer(c, "head_dim", heads > 0 && hidden > 0 ? hidden / heads : -1),
                ConfigFields.number(c, "rope_theta", 10000.0),
                ConfigFields.number(c, "rms_norm_eps", 1e-6),
                ConfigFields.integer(c, "max_position_embeddings", patch > 0 && context > 0 ? context / patch : -1),
                ConfigFields.bool(c, "attention_bias", false),
                ConfigFields.bool(c, "mlp_bias", false),
                patch,
                context,
                ConfigFields.integer(c, "horizon_length", -1),
                levels(c),
                ConfigFields.integer(c, "patch_embedding_hidden_size", -1),
                ConfigFields.integer(c, "quantile_head_hidden_size", -1),
                ConfigFields.text(c, "normalization", MEAN_STD),
                ConfigFields.number(c, "min_scale_ratio", 0.0));
    }

    private static List<Double> levels(JsonNode c) {
        JsonNode q = c.get("quantiles");
        if (q == null || q.isNull()) throw new CheckpointException("config.json field 'quantiles' is missing");
        if (!q.isArray()) throw new CheckpointException("config.json field 'quantiles' must be a list of numbers, got " + q);
        List<Double> out = new ArrayList<>();
        for (JsonNode x : q) {
            if (!x.isNumber()) throw new CheckpointException("config.json field 'quantiles' must be a list of numbers, got " + x);
            out.add(x.asDouble());
        }
        return out;
    }

    /** Rotary inverse frequencies θ^(−2i/Dh), i < Dh/2. */
    double[] ropeInverseFrequencies() {
        double[] inv = new double[headDim / 2];
        for (int i = 0; i < inv.length; i++) inv[i] = 1.0 / Math.pow(ropeTheta, (2.0 * i) / headDim);
        return inv;
    }
}
