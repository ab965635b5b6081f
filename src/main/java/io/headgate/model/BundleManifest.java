package io.headgate.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code headgate.json}: what a bundle directory holds and how its graph is shaped.
 *
 * @param kind      causal-lm (diffusion and forecast later)
 * @param graph     the ONNX file, relative to the bundle
 * @param tokenizer a Hugging Face tokenizer.json, relative to the bundle, or null
 * @param controls  the control inputs the graph has (empty for a plain graph)
 * @param logits    "last" ([B, V]) or "all" ([B, S, V])
 * @param analysisOutputs the last-position analysis outputs the graph has ({@link GraphContract#ANALYSIS_OUTPUTS}), or none
 */
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
        List<String> analysisOutputs) {

    public static final String FILE = "headgate.json";
    public static final int FORMAT = 1;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** L layers (attention modules), H heads, K kv heads, Dh head dim, D model dim, V vocabulary. */
    public record Dimensions(int layers, int heads, int kvHeads, int headDim, int modelDim, int vocabSize) {
        public Dimensions {
            if (layers <= 0 || heads <= 0 || kvHeads <= 0 || headDim <= 0 || modelDim <= 0 || vocabSize <= 0) {
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
    }

    /** Where the graph came from: the checkpoint, its model type and content hash, the converter version. */
    public record Source(String checkpoint, String modelType, String sha256, String converter) {
    }

    public BundleManifest {
        if (format != FORMAT) throw new IllegalArgumentException(FILE + " format " + format + " is not " + FORMAT);
        if (!"causal-lm".equals(kind)) throw new IllegalArgumentException(FILE + " field 'kind' is '" + kind + "'; supported: causal-lm");
        if (maxLength <= 0) throw new IllegalArgumentException(FILE + " field 'maxLength' must be positive");
        if (!"last".equals(logits) && !"all".equals(logits)) {
            throw new IllegalArgumentException(FILE + " field 'logits' must be 'last' or 'all'");
        }
        controls = List.copyOf(controls);
        bosTokenIds = List.copyOf(bosTokenIds);
        eosTokenIds = List.copyOf(eosTokenIds);
        analysisOutputs = analysisOutputs == null ? List.of() : List.copyOf(analysisOutputs); // absent in older manifests
    }

    public boolean steerable() {
        return !controls.isEmpty();
    }

    /** True when the graph also outputs each head's output, each MLP's output, the embedding and the final residual. */
    public boolean analysis() {
        return analysisOutputs.containsAll(GraphContract.ANALYSIS_OUTPUTS);
    }

    public static BundleManifest read(Path bundleDir) throws IOException {
        return JSON.readValue(bundleDir.resolve(FILE).toFile(), BundleManifest.class);
    }

    public void write(Path bundleDir) throws IOException {
        JSON.writeValue(bundleDir.resolve(FILE).toFile(), this);
    }
}
