package io.headgate.model.forecast;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.headgate.model.BundleManifest;
import io.headgate.model.ControlBatch;
import io.headgate.model.Execution;
import io.headgate.model.SessionFactory;
import io.headgate.model.TensorViews;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.headgate.model.GraphContract.ATTN_IDENTITY_MIX;
import static io.headgate.model.GraphContract.HEAD_BIAS;
import static io.headgate.model.GraphContract.HEAD_GAIN;
import static io.headgate.model.forecast.ForecastContract.HEAD_NORM_RATIO;

/**
 * A loaded forecast bundle: its ONNX Runtime session and the forward pass over a batch of series,
 * each row with its own control row. The whole context is recomputed on every call (no cache). Inputs
 * are zero-copy views of direct buffers the windows are written into, and the quantiles land in a
 * pinned buffer (host memory whatever the execution: a GPU session copies them across on each call);
 * the graph works in normalised units and {@link #forward} maps back. One forward pass
 * at a time: whoever owns the graph is its only caller.
 */
public final class ForecastGraph implements AutoCloseable {

    /**
     * Session settings: intra-op threads (0 lets ONNX Runtime choose) and where the session runs
     * ({@code auto} is resolved at load). The CPU unless told otherwise.
     */
    public record SessionConfig(int intraOpThreads, Execution execution) {
        public static final SessionConfig DEFAULT = new SessionConfig(1);

        public SessionConfig {
            if (intraOpThreads < 0) throw new IllegalArgumentException("intraOpThreads must be >= 0");
            if (execution == null) throw new IllegalArgumentException("execution is required");
        }

        public SessionConfig(int intraOpThreads) {
            this(intraOpThreads, Execution.CPU);
        }
    }

    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final BundleManifest manifest;
    private final BundleManifest.Forecast spec;
    private final OrtSession session;
    private final Execution execution;
    private final boolean analysis;
    private final TensorViews views = new TensorViews(env);
    private FloatBuffer values = FloatBuffer.allocate(0), observed = FloatBuffer.allocate(0);
    private FloatBuffer quantiles = FloatBuffer.allocate(0), ratios = FloatBuffer.allocate(0);
    private int analysedRows;
    private boolean closed;

    private ForecastGraph(BundleManifest manifest, OrtSession session, Execution execution) {
        this.manifest = manifest;
        this.spec = manifest.forecast();
        this.session = session;
        this.execution = execution;
        this.analysis = manifest.analysisOutputs().containsAll(ForecastContract.ANALYSIS_OUTPUTS);
    }

    public static ForecastGraph load(Path bundle, SessionConfig config) throws IOException, OrtException {
        BundleManifest manifest = BundleManifest.read(bundle);
        if (!BundleManifest.FORECAST.equals(manifest.kind())) {
            throw new IllegalArgumentException("bundle " + bundle + " is a " + manifest.kind() + " model, not a " + BundleManifest.FORECAST + " one");
        }
        Execution execution = SessionFactory.resolve("execution", config.execution());
        OrtSession session = SessionFactory.create(bundle.resolve(manifest.graph()), execution, config.intraOpThreads());
        try {
            checkSignature(bundle, manifest, session);
        } catch (RuntimeException | OrtException e) {
            session.close();
            throw e;
        }
        return new ForecastGraph(manifest, session, execution);
    }

    /** The graph takes and gives what the manifest says, with the shapes this class feeds. */
    private static void checkSignature(Path bundle, BundleManifest manifest, OrtSession session) throws OrtException {
        BundleManifest.Forecast f = manifest.forecast();
        List<String> inputs = new ArrayList<>(List.of(f.valuesInput(), f.observedInput()));
        inputs.addAll(manifest.controls());
        for (String name : inputs) {
            if (!session.getInputNames().contains(name)) {
                throw new IllegalArgumentException("bundle " + bundle + ": the graph has no input '" + name + "' that headgate.json names");
            }
        }
        if (!session.getOutputNames().contains(f.quantilesOutput())) {
            throw new IllegalArgumentException("bundle " + bundle + ": the graph has no output '" + f.quantilesOutput() + "' that headgate.json names");
        }
        long[] shape = ((TensorInfo) session.getOutputInfo().get(f.quantilesOutput()).getInfo()).getShape();
        if (shape.length != 3 || shape[1] != f.horizon() || shape[2] != f.quantiles().size()) {
            throw new IllegalArgumentException("bundle " + bundle + ": output '" + f.quantilesOutput() + "' has shape " + Arrays.toString(shape)
                    + ", headgate.json says [batch, " + f.horizon() + ", " + f.quantiles().size() + "]");
        }
    }

    public BundleManifest manifest() {
        return manifest;
    }

    /** Where the session runs: {@code cpu} or {@code cuda:N}, never {@code auto}. */
    public Execution execution() {
        return execution;
    }

    /** Patch, context length, horizon, quantile levels, normalisation. */
    public BundleManifest.Forecast spec() {
        return spec;
    }

    /** True when the graph also outputs each head's relative output norm. */
    public boolean analysis() {
        return analysis;
    }

    /**
     * Forecasts each context (NaN for missing values; cut to the most recent {@code contextLength}
     * values) under row i of {@code controls} (null only for a plain graph).
     *
     * @throws IllegalArgumentException naming {@code contexts[i]} for a context the model cannot read
     */
    public QuantileForecast forward(List<double[]> contexts, ControlBatch controls) throws OrtException {
        List<ContextWindow> windows = new ArrayList<>(contexts.size());
        for (int i = 0; i < contexts.size(); i++) {
            try {
                windows.add(ContextWindow.of(contexts.get(i), spec));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("contexts[" + i + "]: " + e.getMessage(), e);
            }
        }
        FloatBuffer normalized = forwardWindows(windows, controls);
        int rows = windows.size(), H = spec.horizon(), Q = spec.quantiles().size();
        double[] out = new double[rows * H * Q];
        for (int r = 0; r < rows; r++) {
            ContextWindow w = windows.get(r);
            for (int i = r * H * Q; i < (r + 1) * H * Q; i++) out[i] = w.denormalize(normalized.get(i));
        }
        return new QuantileForecast(rows, H, spec.quantiles(), out, windows);
    }

    /**
     * The graph itself: prepared windows in, normalised quantiles [rows, horizon, Q] out (unsorted),
     * valid until the next call.
     */
    public FloatBuffer forwardWindows(List<ContextWindow> windows, ControlBatch controls) throws OrtException {
        int rows = windows.size();
        if (rows == 0) throw new IllegalArgumentException("no rows to forecast");
        if (manifest.steerable() != (controls != null)) {
            throw new IllegalArgumentException(manifest.steerable() ? "this graph needs control rows" : "this graph has no control inputs");
        }
        if (controls != null && controls.capacity() < rows) throw new IllegalArgumentException("control batch has fewer than " + rows + " rows");
        int C = spec.contextLength(), out = rows * spec.horizon() * spec.quantiles().size();
        values = ensure(values, rows * C);
        observed = ensure(observed, rows * C);
        quantiles = ensure(quantiles, out);
        for (int r = 0; r < rows; r++) windows.get(r).write(values, observed, r, C);
        var d = manifest.dimensions();
        Map<String, OnnxTensor> inputs = new HashMap<>();
        inputs.put(spec.valuesInput(), views.view(values, 0, new long[]{rows, C}));
        inputs.put(spec.observedInput(), views.view(observed, 0, new long[]{rows, C}));
        if (controls != null) {
            inputs.put(HEAD_GAIN, views.view(controls.gain(), 0, new long[]{rows, d.layers(), d.heads()}));
            inputs.put(HEAD_BIAS, views.view(controls.bias(), 0, new long[]{rows, d.layers(), d.heads(), d.headDim()}));
            inputs.put(ATTN_IDENTITY_MIX, views.view(controls.mix(), 0, new long[]{rows, d.layers(), d.heads()}));
        }
        Map<String, OnnxValue> pinned = new HashMap<>();
        pinned.put(spec.quantilesOutput(), views.view(quantiles, 0, new long[]{rows, spec.horizon(), spec.quantiles().size()}));
        analysedRows = 0;
        if (analysis) {
            ratios = ensure(ratios, rows * d.layers() * d.heads());
            pinned.put(HEAD_NORM_RATIO, views.view(ratios, 0, new long[]{rows, d.layers(), d.heads()}));
        }
        session.run(inputs, Set.of(), pinned).close();
        if (analysis) analysedRows = rows;
        return quantiles.slice(0, out).asReadOnlyBuffer();
    }

    /** The last forward pass's [rows, L, H] relative head output norms (analysis bundles), valid until the next call. */
    public FloatBuffer headNormRatio() {
        if (!analysis) throw new IllegalStateException("bundle " + manifest.name() + " has no analysis outputs");
        if (analysedRows == 0) throw new IllegalStateException("no forward pass yet");
        var d = manifest.dimensions();
        return ratios.slice(0, analysedRows * d.layers() * d.heads()).asReadOnlyBuffer();
    }

    // Buffers grow geometrically: each new buffer strands the tensor views made over the old one.
    private static FloatBuffer ensure(FloatBuffer b, int n) {
        if (b.capacity() >= n) return b;
        return ByteBuffer.allocateDirect(Math.max(n, 2 * b.capacity()) * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    @Override
    public synchronized void close() throws OrtException {
        if (!closed) {
            views.close();
            session.close();
        }
        closed = true;
    }
}
