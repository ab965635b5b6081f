package io.headgate.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.headgate.model.forecast.ForecastContract;
import io.headgate.model.lm.CausalLmContract;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code headgate.json}: what a bundle directory holds and how its graph is shaped. The fields every
 * kind has come first; each kind then has its own section ({@link #cache} and the token fields for
 * {@code causal-lm}, {@link #diffusion}, {@link #forecast}), required for that kind and absent for the others.
 *
 * @param kind      {@value #CAUSAL_LM}, {@value #DIFFUSION}, {@value #FORECAST} (or a kind registered by a test)
 * @param graph     the ONNX file, relative to the bundle
 * @param tokenizer a Hugging Face tokenizer.json, relative to the bundle, or null
 * @param maxLength causal-lm: positions per KV-cache slot; other kinds: the graph's sequence length (or 0)
 * @param controls  the control inputs the graph has (empty for a plain graph)
 * @param logits    causal-lm: "last" ([B, V]) or "all" ([B, S, V])
 * @param analysisOutputs the last-position analysis outputs the graph has ({@link CausalLmContract#ANALYSIS_OUTPUTS}), or none
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BundleManifest(
        int format,
        String name,
        String kind,
        String graph,
        String tokenizer,
        Dimensions dimensions,
        int maxLength,
        List<String> controls,
        CacheLayout cache,
        String logits,
        List<Integer> bosTokenIds,
        List<Integer> eosTokenIds,
        Source source,
        List<String> analysisOutputs,
        Diffusion diffusion,
        Forecast forecast) {

    public static final String FILE = "headgate.json";
    public static final int FORMAT = 1;
    public static final String CAUSAL_LM = "causal-lm", DIFFUSION = "diffusion", FORECAST = "forecast";
    public static final List<String> KINDS = List.of(CAUSAL_LM, DIFFUSION, FORECAST);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** L layers (attention modules), H heads, K kv heads, Dh head dim, D model dim, V vocabulary (0 without one). */
    public record Dimensions(int layers, int heads, int kvHeads, int headDim, int modelDim, int vocabSize) {
        public Dimensions {
            if (layers <= 0 || heads <= 0 || kvHeads <= 0 || headDim <= 0 || modelDim <= 0 || vocabSize < 0) {
                throw new IllegalArgumentException("dimensions must be positive: " + this);
            }
        }
    }

    /**
     * How the graph takes its KV cache. In place: per layer a static [slots, kvHeads, maxLength, headDim]
     * buffer passed as input and pinned output. Otherwise past in, past + new out (benchmarks only).
     */
    public record CacheLayout(boolean inPlace, String layout, String dtype, String keyInput, String valueInput, String keyOutput,
                              String valueOutput) {
        public static final String FLOAT32 = "float32", FLOAT16 = "float16";

        /** True for an fp16 cache; fp32 otherwise (also when absent), and an error naming the field for any other type. */
        public boolean float16() {
            if (dtype == null || dtype.equals(FLOAT32)) return false;
            if (dtype.equals(FLOAT16)) return true;
            throw new IllegalArgumentException(FILE + " field 'cache.dtype' is '" + dtype + "'; supported: " + FLOAT32 + ", " + FLOAT16);
        }
    }

    /** Where the graph came from: the checkpoint, its model type and content hash, the converter version. */
    public record Source(String checkpoint, String modelType, String sha256, String converter) {
    }

    /**
     * A diffusion transformer trained with flow matching: {@code x_t = (1−t)·x0 + t·ε}, the graph predicts
     * the velocity {@code ε − x0}, sampling runs t from 1 to 0. Images are [channels, height, width] in
     * [{@code pixelMin}, {@code pixelMax}]; labels are 0..classes−1 and {@code classes} is the null label.
     *
     * @param classifier   an ONNX graph scoring samples (logits [B, classes], features [B, F]), relative to the bundle, or null
     * @param featureStats mean and covariance of the classifier's features on real held-out images (JSON), or null
     */
    public record Diffusion(int channels, int height, int width, int classes, float pixelMin, float pixelMax,
                            int defaultSteps, int maxSteps, float defaultCfgScale, float defaultPerturbationScale,
                            String classifier, String featureStats) {
        public Diffusion {
            if (channels <= 0 || height <= 0 || width <= 0) throw new IllegalArgumentException(FILE + " diffusion: image dimensions must be positive");
            if (classes < 0) throw new IllegalArgumentException(FILE + " diffusion.classes must be >= 0");
            if (!(pixelMax > pixelMin)) throw new IllegalArgumentException(FILE + " diffusion: pixelMax must exceed pixelMin");
            if (defaultSteps <= 0 || maxSteps < defaultSteps) {
                throw new IllegalArgumentException(FILE + " diffusion: need 0 < defaultSteps <= maxSteps");
            }
        }

        /** The label that asks for an unconditional prediction. */
        public int nullLabel() {
            return classes;
        }
    }

    /**
     * A decoder over patches of a univariate series: the last {@code contextLength} values in,
     * {@code horizon} steps × the quantile levels out. The graph reads the context normalised
     * ({@code normalization} {@code mean_std}: centred on the observed mean, divided by
     * max(std, {@code minScaleRatio}·max|x|), 1 when that is 0) as {@code valuesInput}, with
     * {@code observedInput} marking observed values (missing ones and the left padding are 0 in both),
     * and writes normalised quantiles to {@code quantilesOutput} ([B, horizon, Q]).
     */
    public record Forecast(int patch, int contextLength, int horizon, List<Double> quantiles,
                           String valuesInput, String observedInput, String quantilesOutput,
                           String normalization, double minScaleRatio) {
        public Forecast {
            if (patch <= 0 || contextLength <= 0 || contextLength % patch != 0 || horizon <= 0) {
                throw new IllegalArgumentException(FILE + " forecast: need positive patch, horizon and a context that is a whole number of patches");
            }
            if (quantiles == null || quantiles.isEmpty()) throw new IllegalArgumentException(FILE + " forecast.quantiles must not be empty");
            for (int i = 0; i < quantiles.size(); i++) {
                double q = quantiles.get(i);
                if (!(q > 0 && q < 1) || (i > 0 && !(q > quantiles.get(i - 1)))) {
                    throw new IllegalArgumentException(FILE + " forecast.quantiles must be strictly increasing levels in (0, 1)");
                }
            }
            quantiles = List.copyOf(quantiles);
            // absent in manifests written before these fields: the names the converter has always used
            valuesInput = valuesInput == null ? ForecastContract.PAST_VALUES : valuesInput;
            observedInput = observedInput == null ? ForecastContract.PAST_OBSERVED : observedInput;
            quantilesOutput = quantilesOutput == null ? ForecastContract.QUANTILES : quantilesOutput;
            normalization = normalization == null ? ForecastContract.MEAN_STD : normalization;
            if (!normalization.equals(ForecastContract.MEAN_STD)) {
                throw new IllegalArgumentException(FILE + " forecast.normalization is '" + normalization + "'; supported: " + ForecastContract.MEAN_STD);
            }
            if (!(minScaleRatio >= 0) || Double.isInfinite(minScaleRatio)) {
                throw new IllegalArgumentException(FILE + " forecast.minScaleRatio must be a finite number >= 0");
            }
        }

        /** The contract's names, mean/std normalisation without a floor. */
        public Forecast(int patch, int contextLength, int horizon, List<Double> quantiles) {
            this(patch, contextLength, horizon, quantiles, null, null, null, null, 0);
        }

        /** Patches the graph reads. */
        public int patches() {
            return contextLength / patch;
        }

        /** The index of level 0.5 (the point forecast), or -1. */
        public int medianIndex() {
            return quantiles.indexOf(0.5);
        }
    }

    public BundleManifest {
        if (format != FORMAT) throw new IllegalArgumentException(FILE + " format " + format + " is not " + FORMAT);
        // which kinds are served is the gateway's registry's call; the manifest only checks the ones it knows
        if (kind == null || !kind.matches("[a-z][a-z0-9-]*")) {
            throw new IllegalArgumentException(FILE + " field 'kind' must be a kind name such as " + String.join(", ", KINDS) + "; got " + kind);
        }
        if (dimensions == null) throw new IllegalArgumentException(FILE + " field 'dimensions' is required");
        controls = controls == null ? List.of() : List.copyOf(controls);
        bosTokenIds = bosTokenIds == null ? List.of() : List.copyOf(bosTokenIds);
        eosTokenIds = eosTokenIds == null ? List.of() : List.copyOf(eosTokenIds);
        analysisOutputs = analysisOutputs == null ? List.of() : List.copyOf(analysisOutputs); // absent in older manifests
        switch (kind) {
            case CAUSAL_LM -> {
                if (maxLength <= 0) throw new IllegalArgumentException(FILE + " field 'maxLength' must be positive");
                if (dimensions.vocabSize() <= 0) throw new IllegalArgumentException(FILE + " field 'dimensions.vocabSize' must be positive for " + CAUSAL_LM);
                if (!"last".equals(logits) && !"all".equals(logits)) {
                    throw new IllegalArgumentException(FILE + " field 'logits' must be 'last' or 'all'");
                }
                if (cache == null) throw new IllegalArgumentException(FILE + " field 'cache' is required for " + CAUSAL_LM);
            }
            case DIFFUSION -> {
                if (diffusion == null) throw new IllegalArgumentException(FILE + " field 'diffusion' is required for " + DIFFUSION);
            }
            case FORECAST -> {
                if (forecast == null) throw new IllegalArgumentException(FILE + " field 'forecast' is required for " + FORECAST);
            }
            default -> {
            }
        }
    }

    public boolean steerable() {
        return !controls.isEmpty();
    }

    /** True when the graph also outputs each head's output, each MLP's output, the embedding and the final residual. */
    public boolean analysis() {
        return analysisOutputs.containsAll(CausalLmContract.ANALYSIS_OUTPUTS);
    }

    public static BundleManifest read(Path bundleDir) throws IOException {
        return JSON.readValue(bundleDir.resolve(FILE).toFile(), BundleManifest.class);
    }

    public void write(Path bundleDir) throws IOException {
        JSON.writeValue(bundleDir.resolve(FILE).toFile(), this);
    }
}
