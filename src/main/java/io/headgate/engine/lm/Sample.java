package io.headgate.engine.lm;

/** A chosen token and its log-probability under the raw (unscaled, unfiltered) logits. */
public record Sample(int token, float logprob) {

    public Sample {
        if (token < 0) {
            throw new IllegalArgumentException("token must be >= 0, got " + token);
        }
    }
}
