package io.headgate.model;

import java.util.List;

/**
 * The head controls every steerable graph takes, whatever its kind: float inputs with a leading batch
 * dimension, so every row carries its own profile. Each acts on a head's output z (shape Dh) just
 * before the output projection, as {@code z ← g·((1−u)·z + u·v_self) + b}; the identity values
 * reproduce the graph without controls bit for bit. Kind-specific inputs and outputs are named in
 * each kind's own contract ({@code model.lm.CausalLmContract}, ...).
 */
public final class GraphContract {
    private GraphContract() {
    }

    /** float [B, L, H], identity 1: z ← g·z. */
    public static final String HEAD_GAIN = "head_gain";
    /** float [B, L, H, Dh], identity 0: z ← z + b. */
    public static final String HEAD_BIAS = "head_bias";
    /** float [B, L, H], identity 0: z ← (1−u)·z + u·v_self. */
    public static final String ATTN_IDENTITY_MIX = "attn_identity_mix";
    public static final List<String> CONTROLS = List.of(HEAD_GAIN, HEAD_BIAS, ATTN_IDENTITY_MIX);
}
