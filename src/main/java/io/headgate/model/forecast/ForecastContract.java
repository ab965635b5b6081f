package io.headgate.model.forecast;

import java.util.List;

/**
 * Names of the inputs and outputs of a forecast graph besides the head controls: what the converter
 * writes and {@link ForecastGraph} feeds. B rows, C context values (a whole number N of patches),
 * L layers, H heads, Q quantile levels.
 */
public final class ForecastContract {
    private ForecastContract() {
    }

    /** float [B, C]: the normalised context, left-padded, 0 where a value is missing or padding. */
    public static final String PAST_VALUES = "past_values";
    /** float [B, C]: 1 where the value is observed, 0 where it is missing or padding. */
    public static final String PAST_OBSERVED = "past_observed";
    /** float [B, horizon, Q]: the forecast from the last patch, in normalised units (unsorted). */
    public static final String QUANTILES = "quantiles";

    // Analysis graphs only.
    /**
     * float [B, L, H]: per head, ‖W_O^h z_h‖ / ‖x‖ — the norm of the head's contribution to the
     * residual stream over the norm of the stream entering its layer — averaged over the patches that
     * hold at least one observed value.
     */
    public static final String HEAD_NORM_RATIO = "head_norm_ratio";
    public static final List<String> ANALYSIS_OUTPUTS = List.of(HEAD_NORM_RATIO);

    /** How the normalisation is named in manifests and configs. */
    public static final String MEAN_STD = "mean_std";
}
