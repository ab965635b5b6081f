package io.headgate.server;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.util.Map;
import java.util.Optional;

/** Everything under {@code headgate.*} in application.properties (or HEADGATE_* environment variables). */
@ConfigMapping(prefix = "headgate")
public interface HeadgateConfig {

    /** Models by name: {@code headgate.models.parens-lm.path=models/parens-lm}. */
    Map<String, ModelConfig> models();

    /** Where converted bundles are cached. */
    @WithDefault(".headgate/bundles")
    String bundleCache();

    Profiles profiles();

    Experiments experiments();

    Registry registry();

    /** Where the profile and experiment registries keep their revisions. */
    interface Registry {
        /**
         * {@code files}: directories on this machine ({@code profiles.dir}, {@code experiments.dir}), one
         * gateway; {@code etcd}: one registry in etcd shared by every replica.
         */
        @WithDefault("files")
        String backend();

        Etcd etcd();
    }

    interface Etcd {
        /** etcd client URLs ({@code http://host:2379}); a DNS name of several members (a headless Service) may be one. */
        Optional<java.util.List<String>> endpoints();

        /** The key prefix of everything Headgate stores (profiles under {@code <prefix>profiles/}, experiments under {@code <prefix>experiments/}). */
        @WithDefault("/headgate/")
        String prefix();

        /** How long one request to etcd may take before the registry counts etcd as unreachable. */
        @WithDefault("5s")
        java.time.Duration timeout();

        /**
         * While etcd is unreachable readiness reports DOWN, so no new traffic reaches a replica that
         * cannot see profile changes; true keeps it UP (the reason still shown), so replicas keep
         * serving new streams on the profiles they hold through an etcd outage.
         */
        @WithDefault("false")
        boolean readyWhileUnreachable();
    }

    interface Experiments {
        /** The experiment registry's directory; it survives restarts. */
        @WithDefault(".headgate/experiments")
        String dir();

        /** A directory the experiment registry follows like {@code headgate.profiles.watch}, at the same interval. */
        Optional<String> watch();
    }

    Admin admin();

    Engine engine();

    Effect effect();

    interface Effect {
        /** Share of streams given a shadow baseline for the intervention metrics (Start.shadow always gets one). */
        @WithDefault("0.05")
        double shadowFraction();

        /** How often the built-in probe sets run under the identity and every profile in recent use; 0 turns them off. */
        @WithDefault("5m")
        java.time.Duration canaryInterval();

        /** Probes per task/depth group in each canary run. */
        @WithDefault("10")
        int canaryPerGroup();
    }

    Discovery discovery();

    /** When identity steps run a language model's plain graph (see {@code headgate.engine.plain-graph-for-identity}). */
    enum PlainGraph { AUTO, ON, OFF }

    interface ModelConfig {
        /** A checkpoint directory (converted on load, cached) or a bundle directory. */
        String path();

        /** KV-cache slots: streams decoded together. */
        @WithDefault("32")
        int slots();

        /** Positions per slot; 0 takes the checkpoint's (at most 2048). */
        @WithDefault("0")
        int maxLength();

        /** Streams that may keep an un-steered shadow row at once (each costs one more KV slot). */
        @WithDefault("8")
        int shadowSlots();

        /**
         * Overrides {@code headgate.engine.prefill-tokens-per-step} for this model: the right budget
         * depends on how long a step of the model takes.
         */
        Optional<Integer> prefillTokensPerStep();

        /** Overrides {@code headgate.engine.prefill-share} for this model. */
        Optional<Double> prefillShare();

        /** Overrides {@code headgate.engine.plain-graph-for-identity} for this model. */
        Optional<PlainGraph> plainGraphForIdentity();

        /**
         * Where the model runs: {@code cpu}, {@code cuda[:DEVICE]} (an error when CUDA cannot be used), or
         * {@code auto[:DEVICE]} (CUDA when it can, else the CPU, saying why in one log line). On CUDA the
         * checkpoint is converted to the fp16 graph and the KV cache is kept on the device.
         */
        @WithDefault("cpu")
        String execution();
    }

    interface Profiles {
        /** The registry's directory; it survives restarts. */
        @WithDefault(".headgate/profiles")
        String dir();

        /** Profiles installed at start when absent: {@code <dir>/<model>/<name>.json}. */
        @WithDefault("profiles")
        String seed();

        /**
         * A directory the registry follows (a mounted ConfigMap): new or changed
         * files become new revisions, removed ones deletions, checked every {@link #watchInterval()}.
         */
        Optional<String> watch();

        @WithDefault("5s")
        java.time.Duration watchInterval();

        /** Largest |gain| and |bias component| a profile may set. */
        @WithDefault("16")
        float maxMagnitude();
    }

    interface Admin {
        /** Bearer token for the Profiles service; admin RPCs are refused while it is unset. */
        Optional<String> token();
    }

    interface Engine {
        /** Streams that may wait for a slot, per model, before RESOURCE_EXHAUSTED. */
        @WithDefault("64")
        int maxWaiting();

        @WithDefault("256")
        int defaultMaxTokens();

        /**
         * Prompt tokens a language model reads per step, over the prompts being read, in chunks that share
         * the step with decoding streams; also the admission cost per step while other streams run (at
         * least one stream always). 256: on bench-llama with Poisson arrivals it halved the inter-token
         * p99 against whole prompts at the same throughput (BENCHMARKS.md).
         */
        @WithDefault("256")
        int prefillTokensPerStep();

        /**
         * While at least as many streams decode as wait for their prompt (fewer: a batch starting together, read
         * by the token budget alone), the prompt tokens a language model reads in a step take about this multiple
         * of the decode pass at most (the shorter of its averages over the last few steps and the last few
         * seconds, so a burst of streams does not also buy more prefill; never under 8 tokens, never over
         * {@code prefill-tokens-per-step}), so a prompt delays the running streams' next token in proportion
         * to their own step, whatever the batch size, at the cost of a long prompt's first token. 0: the
         * token budget alone. The default was chosen by the arrivals benchmark (BENCHMARKS.md, "Prefill
         * paced by the decode pass").
         */
        @WithDefault("1.0")
        double prefillShare();

        @WithDefault("4096")
        int maxTokensLimit();

        /** Prompt tokens accepted (also bounded by the model's max length). */
        @WithDefault("4096")
        int maxPromptTokens();

        @WithDefault("16")
        int maxStopStrings();

        @WithDefault("256")
        int maxStopLength();

        /** ONNX Runtime intra-op threads per model; 0 lets it choose. */
        @WithDefault("1")
        int intraOpThreads();

        /**
         * Whether a language model converted from a checkpoint also loads its plain graph (no control
         * inputs) and runs every step whose rows are all under the identity through it: the same
         * outputs bit for bit without the control ops, for a second copy of the weights in memory.
         * {@code auto} does so for weights up to 512 MiB (the ops weigh on small models' short steps;
         * a large model would pay much memory for nothing measurable), {@code on} and {@code off}
         * always and never. On the CPU only (a GPU's cache is bound to one session).
         */
        @WithDefault("auto")
        PlainGraph plainGraphForIdentity();

        /** Internal low-priority streams (canaries, evaluations) that may queue per model. */
        @WithDefault("2048")
        int maxBackground();

        /** A stream with neither an output nor a client message for this long ends (IDLE_TIMEOUT); 0 never. */
        @WithDefault("10m")
        java.time.Duration idleTimeout();

        /** Client messages (observations, ...) one stream may have waiting for the next step. */
        @WithDefault("1024")
        int maxPendingMessages();

        /** Steps a stream may sit paused among running ones before it is moved behind them. */
        @WithDefault("8")
        int compactAfterPausedSteps();
    }

    interface Discovery {
        /** Rows per forward pass in a scan, and KV-cache slots its analysis graph holds. */
        @WithDefault("64")
        int batchRows();

        /** Examples one scan may use. */
        @WithDefault("5000")
        int maxExamples();

        /** Finished scans, and finished searches, kept in memory for SuggestProfile and SaveSearchProfile (each), the most recent first. */
        @WithDefault("32")
        int keepScans();

        /** Scans waiting per model behind the running one, before Scan answers RESOURCE_EXHAUSTED. */
        @WithDefault("4")
        int maxQueued();

        /** Smallest mean attribution (logits, against the mean logit) for a SOUND head, and below minus it for INTERFERING. */
        @WithDefault("0.05")
        double soundMargin();
    }
}
