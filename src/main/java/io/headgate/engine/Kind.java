package io.headgate.engine;

/**
 * What a workload's streams are, in the words its metrics and step phases use: a language model's
 * outputs are tokens (and its meters keep vLLM's names), a diffusion model's denoising steps, a
 * forecaster's forecasts. The scheduler labels its kind-neutral series with {@link #name}.
 *
 * @param name    the manifest's kind, e.g. "causal-lm"
 * @param phases  how its step phases are labelled in {@code headgate_step_duration_seconds{phase}}
 * @param outputs the names of its per-output meters
 */
public record Kind(String name, Phases phases, OutputMeters outputs) {

    /** Labels for admitting a stream (a prefill), a step of every running row, and recomputing after a steering change. */
    public record Phases(String admit, String step, String recompute) {
    }

    /**
     * Meter names (Micrometer style, exported with {@code _seconds}/{@code _total} suffixes): from
     * request to first output, between consecutive outputs, and the count of outputs.
     */
    public record OutputMeters(String firstOutput, String interOutput, String outputs, String unit) {
    }

    public Kind {
        if (name == null || !name.matches("[a-z][a-z0-9-]*")) throw new IllegalArgumentException("kind name must match [a-z][a-z0-9-]*: " + name);
    }
}
