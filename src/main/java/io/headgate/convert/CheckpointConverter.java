package io.headgate.convert;

import com.fasterxml.jackson.databind.JsonNode;
import io.headgate.model.forecast.ForecastContract;
import io.headgate.model.lm.CausalLmContract;
import io.headgate.model.BundleManifest;
import io.headgate.model.GraphContract;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static io.headgate.model.lm.CausalLmContract.pastKey;
import static io.headgate.model.lm.CausalLmContract.pastValue;
import static io.headgate.model.lm.CausalLmContract.presentKey;
import static io.headgate.model.lm.CausalLmContract.presentValue;

/**
 * Checkpoint directory ({@code config.json} + safetensors) → bundle directory ({@code headgate.json},
 * {@code model.onnx} + {@code model.onnx.data}, {@code tokenizer.json}).
 *
 * <p>The bundle is built in a hidden sibling directory and moved into place in one atomic rename,
 * so a failed or interrupted conversion never leaves a half-written bundle where a reader looks.
 */
public final class CheckpointConverter {

    /** Bumped whenever the emitted graph changes, so cached bundles are rebuilt. */
    public static final String VERSION = "5";
    public static final String GRAPH_FILE = "model.onnx";
    public static final String DATA_FILE = "model.onnx.data";
    public static final String TOKENIZER_FILE = "tokenizer.json";
    /** Without an explicit length, the cache is sized for this many positions at most. */
    public static final int DEFAULT_MAX_LENGTH_CAP = 2048;

    /**
     * @param controls  emit the head control inputs (false: the plain graph, for parity and benchmarks)
     * @param allLogits logits at every position instead of the last (evaluation graphs)
     * @param maxLength positions per cache slot; 0 takes the config's, capped at {@value #DEFAULT_MAX_LENGTH_CAP}
     * @param concatCache a growing past/present cache instead of the static in-place one (benchmarks)
     * @param analysis  also output, at the last position, each head's steered output, each MLP's output,
     *                  the token embedding and the final residual (head discovery); needs controls
     * @param float16   weights, rotary tables, activations and the KV cache in fp16 (the graph a GPU
     *                  needs: CUDA's GroupQueryAttention has no fp32 kernel); controls and outputs stay fp32
     */
    public record Options(boolean controls, boolean allLogits, int maxLength, boolean concatCache, boolean analysis, boolean float16) {
        public static final Options STEERABLE = new Options(true, false, 0);
        public static final Options ANALYSIS = analysis(0);

        public Options {
            if (maxLength < 0) throw new IllegalArgumentException("maxLength must be >= 0");
            if (analysis && (!controls || concatCache)) {
                throw new IllegalArgumentException("analysis outputs need the control inputs and the in-place cache");
            }
        }

        public Options(boolean controls, boolean allLogits, int maxLength, boolean concatCache, boolean analysis) {
            this(controls, allLogits, maxLength, concatCache, analysis, false);
        }

        public Options(boolean controls, boolean allLogits, int maxLength, boolean concatCache) {
            this(controls, allLogits, maxLength, concatCache, false);
        }

        public Options(boolean controls, boolean allLogits, int maxLength) {
            this(controls, allLogits, maxLength, false);
        }

        /** The steerable graph with the analysis outputs, last-position logits. */
        public static Options analysis(int maxLength) {
            return new Options(true, false, maxLength, false, true);
        }

        /** These options with the fp16 graph ({@code true}) or the fp32 one. */
        public Options withFloat16(boolean on) {
            return new Options(controls, allLogits, maxLength, concatCache, analysis, on);
        }

        /** The cache's element type as the manifest names it. */
        public String cacheDtype() {
            return float16 ? BundleManifest.CacheLayout.FLOAT16 : BundleManifest.CacheLayout.FLOAT32;
        }

        String tag() {
            return (controls ? "steerable" : "plain") + (allLogits ? "-all" : "") + (maxLength > 0 ? "-" + maxLength : "")
                    + (concatCache ? "-concat" : "") + (analysis ? "-analysis" : "") + (float16 ? "-fp16" : "");
        }
    }

    private final Consumer<String> progress;
    /** How the manifest writes per-layer names. */
    private static final String LAYER = "{layer}";

    public CheckpointConverter(Consumer<String> progress) {
        this.progress = progress;
    }

    /** Converts into {@code out}, which must not exist yet. */
    public BundleManifest convert(Path checkpoint, Path out, Options options) throws IOException {
        return convert(checkpoint, out, options, null);
    }

    BundleManifest convert(Path checkpoint, Path out, Options options, String knownHash) throws IOException {
        progress.accept("reading " + checkpoint.resolve("config.json"));
        JsonNode json = ConfigFields.read(checkpoint.resolve("config.json"));
        if (PatchLlamaConfig.MODEL_TYPE.equals(ConfigFields.text(json, "model_type", null))) {
            return convertForecaster(checkpoint, out, options, knownHash, PatchLlamaConfig.parse(json), SteerablePatchGraph.AttentionKind.PLAIN);
        }
        LlamaConfig config = LlamaConfig.read(checkpoint.resolve("config.json"));
        if (config.headDim() % 16 != 0) {
            throw new CheckpointException("config.json field 'head_dim' is " + config.headDim()
                    + "; ONNX Runtime's GroupQueryAttention on CPU needs a multiple of 16");
        }
        int maxLength = options.maxLength() > 0 ? options.maxLength()
                : Math.min(config.maxPositionEmbeddings(), DEFAULT_MAX_LENGTH_CAP);
        try (CheckpointWeights weights = new CheckpointWeights(checkpoint)) {
            weights.require(SteerableLlamaGraph.expectedTensors(config));
            boolean hasTokenizer = Files.isRegularFile(checkpoint.resolve(TOKENIZER_FILE));
            String hash = knownHash != null ? knownHash : hash(checkpoint, options);
            return writeBundle(checkpoint, out, hash, builder -> new SteerableLlamaGraph(config,
                            new SteerableLlamaGraph.Options(options.controls(), options.allLogits(), maxLength, options.concatCache(),
                                    options.analysis(), options.float16()),
                            weights, builder, progress).write(),
                    manifest(checkpoint, config, options, maxLength, hasTokenizer, hash), hasTokenizer);
        }
    }

    /**
     * A patch forecaster: the forecast graph, the whole context recomputed per call. {@code attention}
     * PLAIN is what bundles get (measured faster than GroupQueryAttention on CPU, and any head size works).
     */
    BundleManifest convertForecaster(Path checkpoint, Path out, Options options, String knownHash, PatchLlamaConfig config,
                                     SteerablePatchGraph.AttentionKind attention) throws IOException {
        // a forecaster's graph is fp32 with no cache and one output per series: name each option that cannot apply
        List<String> lmOnly = new ArrayList<>();
        if (options.allLogits()) lmOnly.add("allLogits (--all-logits)");
        if (options.concatCache()) lmOnly.add("concatCache");
        if (options.maxLength() > 0) lmOnly.add("maxLength (--max-length)");
        if (options.float16()) lmOnly.add("float16 (--fp16; forecast graphs are fp32)");
        if (!lmOnly.isEmpty()) {
            throw new IllegalArgumentException((lmOnly.size() == 1 ? "option " : "options ") + String.join(", ", lmOnly)
                    + (lmOnly.size() == 1 ? " applies" : " apply") + " to language models only; "
                    + checkpoint + " is a " + PatchLlamaConfig.MODEL_TYPE + " forecaster");
        }
        try (CheckpointWeights weights = new CheckpointWeights(checkpoint)) {
            weights.require(SteerablePatchGraph.expectedTensors(config));
            String hash = knownHash != null ? knownHash : hash(checkpoint, options);
            return writeBundle(checkpoint, out, hash, builder -> new SteerablePatchGraph(config,
                            new SteerablePatchGraph.Options(options.controls(), options.analysis(), attention), weights, builder, progress).write(),
                    forecastManifest(checkpoint, config, options, hash), false);
        }
    }

    private interface GraphWriter {
        void write(OnnxGraphBuilder builder) throws IOException;
    }

    /** Builds the bundle in a hidden sibling directory and renames it into place. */
    private BundleManifest writeBundle(Path checkpoint, Path out, String hash, GraphWriter graph, BundleManifest manifest,
                                       boolean copyTokenizer) throws IOException {
        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path partial = Files.createTempDirectory(parent, "." + out.getFileName() + ".partial-");
        if (partial.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            Files.setPosixFilePermissions(partial, PosixFilePermissions.fromString("rwxr-xr-x")); // not the temp dir's 700
        }
        try {
            try (OnnxGraphBuilder builder = new OnnxGraphBuilder(checkpoint.getFileName().toString(), partial.resolve(DATA_FILE))) {
                graph.write(builder);
                builder.write(partial.resolve(GRAPH_FILE), VERSION, Map.of("headgate.source.sha256", hash));
            }
            if (copyTokenizer) Files.copy(checkpoint.resolve(TOKENIZER_FILE), partial.resolve(TOKENIZER_FILE));
            manifest.write(partial);
            moveIntoPlace(partial, out);
            progress.accept("wrote " + out);
            return manifest;
        } finally {
            deleteRecursively(partial);
        }
    }

    private static BundleManifest forecastManifest(Path checkpoint, PatchLlamaConfig c, Options options, String hash) {
        return new BundleManifest(
                BundleManifest.FORMAT,
                checkpoint.toAbsolutePath().normalize().getFileName().toString(),
                BundleManifest.FORECAST,
                GRAPH_FILE,
                null,
                new BundleManifest.Dimensions(c.layers(), c.heads(), c.kvHeads(), c.headDim(), c.hiddenSize(), 0),
                c.patches(),
                options.controls() ? GraphContract.CONTROLS : List.of(),
                null,
                null,
                null,
                null,
                new BundleManifest.Source(checkpoint.toAbsolutePath().normalize().toString(), PatchLlamaConfig.MODEL_TYPE, hash, VERSION),
                options.analysis() ? ForecastContract.ANALYSIS_OUTPUTS : List.of(),
                null,
                new BundleManifest.Forecast(c.patchLength(), c.contextLength(), c.horizonLength(), c.quantiles(),
                        ForecastContract.PAST_VALUES, ForecastContract.PAST_OBSERVED, ForecastContract.QUANTILES,
                        ForecastContract.MEAN_STD, c.minScaleRatio()));
    }

    private static BundleManifest manifest(Path checkpoint, LlamaConfig c, Options options, int maxLength,
                                           boolean hasTokenizer, String hash) {
        List<String> controls = options.controls() ? GraphContract.CONTROLS : List.<String>of();
        return new BundleManifest(
                BundleManifest.FORMAT,
                checkpoint.toAbsolutePath().normalize().getFileName().toString(),
                BundleManifest.CAUSAL_LM,
                GRAPH_FILE,
                hasTokenizer ? TOKENIZER_FILE : null,
                new BundleManifest.Dimensions(c.layers(), c.heads(), c.kvHeads(), c.headDim(), c.hiddenSize(), c.vocabSize()),
                maxLength,
                controls,
                new BundleManifest.CacheLayout(!options.concatCache(), options.concatCache() ? "[batch, kv_heads, past, head_dim] in, [batch, kv_heads, past + new, head_dim] out"
                        : "[slots, kv_heads, max_length, head_dim] per layer, updated in place", options.cacheDtype(),
                        pastKey(LAYER), pastValue(LAYER), presentKey(LAYER), presentValue(LAYER)),
                options.allLogits() ? "all" : "last",
                c.bosTokenIds(),
                c.eosTokenIds(),
                new BundleManifest.Source(checkpoint.toAbsolutePath().normalize().toString(), c.modelType(), hash, VERSION),
                options.analysis() ? CausalLmContract.ANALYSIS_OUTPUTS : List.of(),
                null,
                null);
    }

    /** SHA-256 over the converter version, the options and every file the conversion reads. */
    static String hash(Path checkpoint, Options options) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        sha.update(("headgate-converter " + VERSION + " " + options.tag() + "\n").getBytes());
        List<Path> inputs;
        try (Stream<Path> files = Files.list(checkpoint)) {
            inputs = files.filter(p -> {
                String n = p.getFileName().toString();
                return n.equals("config.json") || n.equals(TOKENIZER_FILE) || n.endsWith(".safetensors")
                        || n.equals("model.safetensors.index.json");
            }).sorted().toList();
        }
        byte[] buffer = new byte[1 << 20];
        for (Path p : inputs) {
            sha.update(p.getFileName().toString().getBytes());
            try (InputStream in = Files.newInputStream(p)) {
                for (int n; (n = in.read(buffer)) > 0; ) sha.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static void moveIntoPlace(Path partial, Path out) throws IOException {
        try {
            Files.move(partial, out, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot rename " + partial + " to " + out + " atomically", e);
        } catch (FileAlreadyExistsException e) {
            throw new IOException(out + " already exists; remove it or choose another output directory", e);
        } catch (IOException e) {
            // rename onto a non-empty directory fails with DirectoryNotEmptyException on Linux
            if (Files.exists(out)) throw new IOException(out + " already exists; remove it or choose another output directory", e);
            throw e;
        }
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
