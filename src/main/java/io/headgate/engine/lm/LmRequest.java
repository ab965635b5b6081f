package io.headgate.engine.lm;

import java.util.List;

/** A validated generation request: prompt token ids, sampling, output limit and stop strings. */
public record LmRequest(long[] prompt, SamplingParams sampling, int maxTokens, List<String> stops) {
    public LmRequest {
        if (prompt.length == 0) throw new IllegalArgumentException("prompt is empty");
        if (maxTokens <= 0) throw new IllegalArgumentException("maxTokens must be positive");
        stops = List.copyOf(stops);
    }
}
