package io.headgate.engine.lm;

/**
 * How one stream picks its next token. {@code temperature} 0 means greedy (argmax, lowest id wins
 * ties); {@code topK} 0 turns top-k off; {@code topP} 0 or >= 1 turns nucleus sampling off;
 * {@code seed} seeds the stream's random generator.
 */
public record SamplingParams(float temperature, int topK, float topP, long seed) {

    public SamplingParams {
        if (!Float.isFinite(temperature) || temperature < 0) {
            throw new IllegalArgumentException("temperature must be finite and >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top_k must be >= 0, got " + topK);
        }
        // The negated form also rejects NaN.
        if (!(topP >= 0 && topP <= 1)) {
            throw new IllegalArgumentException("top_p must be in [0, 1], got " + topP);
        }
    }

    public static SamplingParams greedy() {
        return new SamplingParams(0f, 0, 0f, 0L);
    }

    public boolean isGreedy() {
        return temperature == 0f;
    }

    boolean topPActive() {
        return topP > 0f && topP < 1f;
    }
}
