package io.headgate.engine.lm;

import java.util.List;

/**
 * A validated generation request: prompt token ids, sampling, output limit, stop strings, whether
 * to run past the end-of-text token (benchmarks measure fixed lengths), and the shadow baseline.
 */
public record LmRequest(long[] prompt, SamplingParams sampling, int maxTokens, List<String> stops, boolean ignoreEos,
                        Shadow shadow) {

    /** A shadow row measuring the intervention: none, for metrics only (sampled), or also reported on each token. */
    public enum Shadow { NONE, METRICS, REPORTED }

    public LmRequest {
        if (prompt.length == 0) throw new IllegalArgumentException("prompt is empty");
        if (maxTokens <= 0) throw new IllegalArgumentException("maxTokens must be positive");
        stops = List.copyOf(stops);
    }

    public LmRequest(long[] prompt, SamplingParams sampling, int maxTokens, List<String> stops) {
        this(prompt, sampling, maxTokens, stops, false, Shadow.NONE);
    }
}
