package io.headgate.model.lm;

import java.util.List;

/**
 * Names of the inputs and outputs of a steerable causal-LM graph besides the head controls: what the
 * converter writes and the runtime feeds. Shapes use B rows, S new positions, L layers, H heads,
 * K kv heads, Dh head dim.
 */
public final class CausalLmContract {
    private CausalLmContract() {
    }

    /** int64 [B, S]: the new tokens of each row. */
    public static final String INPUT_IDS = "input_ids";
    /** int32 [B]: each row's total length (cached + new) minus one. */
    public static final String SEQLENS_K = "seqlens_k";
    /** int32 scalar: the longest row's total length. */
    public static final String TOTAL_SEQUENCE_LENGTH = "total_sequence_length";
    /** float [B, V] (last position) or [B, S, V] (every position, evaluation graphs). */
    public static final String LOGITS = "logits";

    // Analysis graphs only, all at each row's last position: what direct logit attribution decomposes.
    /** float [B, L, H, Dh]: each head's output z after the controls, before o_proj. */
    public static final String HEAD_OUTPUTS = "head_outputs";
    /** float [B, L, D]: each layer's MLP output (down_proj, bias included), added to the residual. */
    public static final String MLP_OUTPUTS = "mlp_outputs";
    /** float [B, D]: the token embedding. */
    public static final String EMBEDDING = "embedding";
    /** float [B, D]: the residual stream before the final norm. */
    public static final String FINAL_RESIDUAL = "final_residual";
    public static final List<String> ANALYSIS_OUTPUTS = List.of(HEAD_OUTPUTS, MLP_OUTPUTS, EMBEDDING, FINAL_RESIDUAL);

    /** float [slots, K, maxLength, Dh]: passed as input and as pinned output, updated in place. */
    public static String pastKey(Object layer) {
        return "past_key_" + layer;
    }

    public static String pastValue(Object layer) {
        return "past_value_" + layer;
    }

    public static String presentKey(Object layer) {
        return "present_key_" + layer;
    }

    public static String presentValue(Object layer) {
        return "present_value_" + layer;
    }
}
