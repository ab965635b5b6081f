package io.headgate.model.diffusion;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.headgate.model.BundleManifest;
import io.headgate.model.TensorViews;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import static io.headgate.model.diffusion.DiffusionContract.FEATURES;
import static io.headgate.model.diffusion.DiffusionContract.IMAGE;
import static io.headgate.model.diffusion.DiffusionContract.LOGITS;

/**
 * A diffusion bundle's quality classifier ({@link BundleManifest.Diffusion#classifier()}): class logits
 * and a feature vector per image, the inputs of {@code io.headgate.effect.SampleQuality}. Images are
 * scored in chunks of at most {@link #CHUNK} through pinned buffers. One call at a time (synchronized).
 */
public final class SampleClassifier implements AutoCloseable {

    /** The most images per forward pass: bounds the buffers, not the number of images per call. */
    public static final int CHUNK = 512;

    /** Logits [n, classes] and features [n, featureSize], row-major. */
    public record Scores(int count, int classes, int featureSize, float[] logits, float[] features) {
        public Scores {
            if (logits.length != count * classes || features.length != count * featureSize) {
                throw new IllegalArgumentException("scores of " + count + " images have " + logits.length + " logits and " + features.length + " features");
            }
        }
    }

    private final OrtSession session;
    private final int pixels, classes, featureSize;
    private final long[] imageShape;
    private final FloatBuffer images, logits, features;
    private final TensorViews views = new TensorViews(OrtEnvironment.getEnvironment());
    private boolean closed;

    private SampleClassifier(OrtSession session, BundleManifest.Diffusion spec, int featureSize) {
        this.session = session;
        this.pixels = spec.channels() * spec.height() * spec.width();
        this.imageShape = new long[]{spec.channels(), spec.height(), spec.width()};
        this.classes = spec.classes();
        this.featureSize = featureSize;
        this.images = direct(CHUNK * pixels);
        this.logits = direct(CHUNK * classes);
        this.features = direct(CHUNK * featureSize);
    }

    /** Loads the classifier the bundle's manifest names; fails naming the field when it names none. */
    public static SampleClassifier load(Path bundle, BundleManifest manifest, int intraOpThreads) throws IOException, OrtException {
        BundleManifest.Diffusion spec = manifest.diffusion();
        if (spec == null || spec.classifier() == null) {
            throw new IllegalArgumentException("bundle " + bundle + ": field 'diffusion.classifier' names no classifier graph");
        }
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            if (intraOpThreads > 0) options.setIntraOpNumThreads(intraOpThreads);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            OrtSession session = OrtEnvironment.getEnvironment().createSession(bundle.resolve(spec.classifier()).toString(), options);
            try {
                if (!session.getInputNames().equals(Set.of(IMAGE)) || !session.getOutputNames().containsAll(Set.of(LOGITS, FEATURES))) {
                    throw new IllegalArgumentException("bundle " + bundle + ": classifier takes " + session.getInputNames() + " and gives "
                            + session.getOutputNames() + "; expected '" + IMAGE + "' -> '" + LOGITS + "', '" + FEATURES + "'");
                }
                long[] logitShape = ((TensorInfo) session.getOutputInfo().get(LOGITS).getInfo()).getShape();
                long[] featureShape = ((TensorInfo) session.getOutputInfo().get(FEATURES).getInfo()).getShape();
                if (logitShape.length != 2 || logitShape[1] != spec.classes()) {
                    throw new IllegalArgumentException("bundle " + bundle + ": classifier logits must be [B, " + spec.classes() + "]");
                }
                if (featureShape.length != 2 || featureShape[1] <= 0) {
                    throw new IllegalArgumentException("bundle " + bundle + ": classifier features must be [B, F] with a fixed F");
                }
                return new SampleClassifier(session, spec, Math.toIntExact(featureShape[1]));
            } catch (RuntimeException e) {
                session.close();
                throw e;
            }
        }
    }

    public int featureSize() {
        return featureSize;
    }

    /** Scores {@code count} images stored back to back in {@code pixels} (count × C × H × W values). */
    public synchronized Scores classify(int count, float[] pixels) throws OrtException {
        if (closed) throw new IllegalStateException("classifier is closed");
        if (count < 0 || pixels.length < count * this.pixels) {
            throw new IllegalArgumentException("pixels holds " + pixels.length + " values; " + count + " images need " + count * this.pixels);
        }
        float[] allLogits = new float[count * classes], allFeatures = new float[count * featureSize];
        for (int start = 0; start < count; start += CHUNK) {
            int n = Math.min(CHUNK, count - start);
            images.put(0, pixels, start * this.pixels, n * this.pixels);
            Map<String, OnnxTensor> inputs = Map.of(IMAGE, views.view(images, 0, new long[]{n, imageShape[0], imageShape[1], imageShape[2]}));
            Map<String, OnnxValue> pinned = Map.of(
                    LOGITS, views.view(logits, 0, new long[]{n, classes}),
                    FEATURES, views.view(features, 0, new long[]{n, featureSize}));
            session.run(inputs, Set.of(), pinned).close();
            logits.get(0, allLogits, start * classes, n * classes);
            features.get(0, allFeatures, start * featureSize, n * featureSize);
        }
        return new Scores(count, classes, featureSize, allLogits, allFeatures);
    }

    private static FloatBuffer direct(int floats) {
        return ByteBuffer.allocateDirect(floats * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
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
