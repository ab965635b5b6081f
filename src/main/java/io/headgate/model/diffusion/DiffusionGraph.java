package io.headgate.model.diffusion;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.headgate.model.BundleManifest;
import io.headgate.model.ControlBatch;
import io.headgate.model.GraphContract;
import io.headgate.model.TensorViews;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

import static io.headgate.model.GraphContract.ATTN_IDENTITY_MIX;
import static io.headgate.model.GraphContract.HEAD_BIAS;
import static io.headgate.model.GraphContract.HEAD_GAIN;
import static io.headgate.model.diffusion.DiffusionContract.CLASS_LABEL;
import static io.headgate.model.diffusion.DiffusionContract.T;
import static io.headgate.model.diffusion.DiffusionContract.VELOCITY;
import static io.headgate.model.diffusion.DiffusionContract.X_T;

/**
 * A loaded diffusion bundle's denoiser: one forward pass predicts the velocity of a batch of rows,
 * each with its own noisy image, time, label and control row. Inputs are zero-copy views of direct
 * buffers that grow as needed and the velocity lands in a pinned buffer, so a step of a steady batch
 * size creates no tensor. One forward pass at a time (the methods are synchronized).
 */
public final class DiffusionGraph implements AutoCloseable {

    /** Session settings; 0 threads lets ONNX Runtime choose. */
    public record SessionConfig(int intraOpThreads) {
        public static final SessionConfig DEFAULT = new SessionConfig(1);
    }

    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final BundleManifest manifest;
    private final BundleManifest.Diffusion spec;
    private final OrtSession session;
    private final int pixels;
    private final long[] imageShape;
    private FloatBuffer xt = FloatBuffer.allocate(0), times = FloatBuffer.allocate(0), velocity = FloatBuffer.allocate(0);
    private LongBuffer labels = LongBuffer.allocate(0);
    private final TensorViews views = new TensorViews(env);
    private boolean closed;

    private DiffusionGraph(BundleManifest manifest, OrtSession session) {
        this.manifest = manifest;
        this.spec = manifest.diffusion();
        this.session = session;
        this.pixels = spec.channels() * spec.height() * spec.width();
        this.imageShape = new long[]{spec.channels(), spec.height(), spec.width()};
    }

    /** Loads the bundle's graph and checks that its inputs and output are the ones the manifest promises. */
    public static DiffusionGraph load(Path bundle, SessionConfig config) throws IOException, OrtException {
        return load(bundle, BundleManifest.read(bundle), config);
    }

    /** Loads {@code manifest}'s graph from {@code bundle} (a test may point a manifest at another graph file). */
    public static DiffusionGraph load(Path bundle, BundleManifest manifest, SessionConfig config) throws IOException, OrtException {
        if (!BundleManifest.DIFFUSION.equals(manifest.kind())) {
            throw new IllegalArgumentException("bundle " + bundle + " is of kind '" + manifest.kind() + "', not '" + BundleManifest.DIFFUSION + "'");
        }
        if (manifest.steerable() && !manifest.controls().equals(GraphContract.CONTROLS)) {
            throw new IllegalArgumentException("bundle " + bundle + ": 'controls' must be " + GraphContract.CONTROLS + " or empty, not " + manifest.controls());
        }
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            if (config.intraOpThreads() > 0) options.setIntraOpNumThreads(config.intraOpThreads());
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            OrtSession session = OrtEnvironment.getEnvironment().createSession(bundle.resolve(manifest.graph()).toString(), options);
            try {
                checkSignature(bundle, manifest, session);
            } catch (RuntimeException | OrtException e) {
                session.close();
                throw e;
            }
            return new DiffusionGraph(manifest, session);
        }
    }

    private static void checkSignature(Path bundle, BundleManifest manifest, OrtSession session) throws OrtException {
        Set<String> expected = new LinkedHashSet<>(DiffusionContract.DENOISER_INPUTS);
        expected.addAll(manifest.controls());
        Set<String> actual = session.getInputNames();
        if (!actual.equals(expected)) {
            throw new IllegalArgumentException("bundle " + bundle + ": graph inputs are " + actual + "; the manifest implies " + expected);
        }
        if (!session.getOutputNames().contains(VELOCITY)) {
            throw new IllegalArgumentException("bundle " + bundle + ": graph has no output '" + VELOCITY + "'");
        }
        var d = manifest.diffusion();
        long[] shape = ((TensorInfo) session.getOutputInfo().get(VELOCITY).getInfo()).getShape();
        long[] want = {-1, d.channels(), d.height(), d.width()};
        for (int i = 1; i < 4; i++) {
            if (shape.length != 4 || shape[i] != want[i]) {
                throw new IllegalArgumentException("bundle " + bundle + ": output '" + VELOCITY + "' has shape "
                        + Arrays.toString(shape) + ", expected [B, " + d.channels() + ", " + d.height() + ", " + d.width() + "]");
            }
        }
        NodeInfo label = session.getInputInfo().get(CLASS_LABEL);
        if (((TensorInfo) label.getInfo()).type != OnnxJavaType.INT64) {
            throw new IllegalArgumentException("bundle " + bundle + ": input '" + CLASS_LABEL + "' must be int64");
        }
    }

    public BundleManifest manifest() {
        return manifest;
    }

    /** Values per image: channels × height × width. */
    public int imageSize() {
        return pixels;
    }

    /**
     * Predicts the velocity of {@code rows} rows: row i is the image {@code x_t[i·P .. (i+1)·P)} (P =
     * {@link #imageSize()}) at time {@code t[i]} with label {@code labels[i]} (the null label for an
     * unconditional prediction), under row i of {@code controls} (null only for a plain graph).
     *
     * @return velocity [rows, C, H, W], read-only, valid until the next call
     */
    public synchronized FloatBuffer forward(int rows, float[] x_t, float[] t, long[] labels, ControlBatch controls) throws OrtException {
        if (closed) throw new IllegalStateException("graph " + manifest.name() + " is closed");
        if (rows <= 0) throw new IllegalArgumentException("rows must be positive, not " + rows);
        if (x_t.length < rows * pixels) throw new IllegalArgumentException("x_t holds " + x_t.length + " values; " + rows + " rows need " + rows * pixels);
        if (t.length < rows) throw new IllegalArgumentException("t holds " + t.length + " values; need " + rows);
        if (labels.length < rows) throw new IllegalArgumentException("labels holds " + labels.length + " values; need " + rows);
        if (manifest.steerable() != (controls != null)) {
            throw new IllegalArgumentException(manifest.steerable() ? "this graph needs control rows" : "this graph has no control inputs");
        }
        if (controls != null && controls.capacity() < rows) throw new IllegalArgumentException("control batch has fewer than " + rows + " rows");
        xt = ensure(xt, rows * pixels);
        times = ensure(times, rows);
        velocity = ensure(velocity, rows * pixels);
        this.labels = ensure(this.labels, rows);
        for (int i = 0; i < rows; i++) {
            if (!(t[i] >= 0f && t[i] <= 1f)) throw new IllegalArgumentException("t[" + i + "] is " + t[i] + "; must lie in [0, 1]");
            if (labels[i] < 0 || labels[i] > spec.nullLabel()) {
                throw new IllegalArgumentException("labels[" + i + "] is " + labels[i] + "; must lie in 0.." + spec.nullLabel() + " (" + spec.nullLabel() + " = unconditional)");
            }
            times.put(i, t[i]);
            this.labels.put(i, labels[i]);
        }
        xt.put(0, x_t, 0, rows * pixels);

        long[] images = {rows, imageShape[0], imageShape[1], imageShape[2]};
        var d = manifest.dimensions();
        Map<String, OnnxTensor> inputs = new HashMap<>();
        inputs.put(X_T, views.view(xt, 0, images));
        inputs.put(T, views.view(times, 0, new long[]{rows}));
        inputs.put(CLASS_LABEL, views.view(this.labels, 0, new long[]{rows}));
        if (controls != null) {
            inputs.put(HEAD_GAIN, views.view(controls.gain(), 0, new long[]{rows, d.layers(), d.heads()}));
            inputs.put(HEAD_BIAS, views.view(controls.bias(), 0, new long[]{rows, d.layers(), d.heads(), d.headDim()}));
            inputs.put(ATTN_IDENTITY_MIX, views.view(controls.mix(), 0, new long[]{rows, d.layers(), d.heads()}));
        }
        Map<String, OnnxValue> pinned = Map.of(VELOCITY, views.view(velocity, 0, images));
        session.run(inputs, Set.of(), pinned).close();
        return velocity.slice(0, rows * pixels).asReadOnlyBuffer();
    }

    // Buffers grow geometrically: each new buffer strands the tensor views made over the old one.
    static FloatBuffer ensure(FloatBuffer b, int n) {
        return b.capacity() >= n ? b : direct(Math.max(n, 2 * b.capacity()), 4).asFloatBuffer();
    }

    static LongBuffer ensure(LongBuffer b, int n) {
        return b.capacity() >= n ? b : direct(Math.max(n, 2 * b.capacity()), 8).asLongBuffer();
    }

    private static ByteBuffer direct(int elements, int width) {
        return ByteBuffer.allocateDirect(elements * width).order(ByteOrder.nativeOrder());
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
