package io.headgate.model.lm;

import io.headgate.model.BundleManifest;
import io.headgate.model.ControlBatch;
import io.headgate.model.Execution;
import io.headgate.model.SessionFactory;
import io.headgate.model.TensorViews;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

import static io.headgate.model.GraphContract.ATTN_IDENTITY_MIX;
import static io.headgate.model.lm.CausalLmContract.EMBEDDING;
import static io.headgate.model.lm.CausalLmContract.FINAL_RESIDUAL;
import static io.headgate.model.GraphContract.HEAD_BIAS;
import static io.headgate.model.GraphContract.HEAD_GAIN;
import static io.headgate.model.lm.CausalLmContract.HEAD_OUTPUTS;
import static io.headgate.model.lm.CausalLmContract.INPUT_IDS;
import static io.headgate.model.lm.CausalLmContract.LOGITS;
import static io.headgate.model.lm.CausalLmContract.MLP_OUTPUTS;
import static io.headgate.model.lm.CausalLmContract.SEQLENS_K;
import static io.headgate.model.lm.CausalLmContract.TOTAL_SEQUENCE_LENGTH;
import static io.headgate.model.lm.CausalLmContract.pastKey;
import static io.headgate.model.lm.CausalLmContract.pastValue;
import static io.headgate.model.lm.CausalLmContract.presentKey;
import static io.headgate.model.lm.CausalLmContract.presentValue;

/**
 * A loaded causal-LM bundle: its ONNX Runtime session and the forward pass over a range of KV-cache
 * slots. Every input is a zero-copy view of a direct buffer and logits land in a pinned buffer.
 * The cache is passed as input and as output of every layer, so the graph writes new keys in place:
 * on the host path as tensor views of the cache's direct buffers through {@code OrtSession.run};
 * on the bound path (the GPU) as memory the session allocated on its device, through IOBinding
 * ({@link BoundSession}), so a step moves only the small inputs and the logits. Callers see the
 * same {@link #forward} either way. One forward pass at a time: the scheduler owning the graph is
 * its only caller. An analysis graph also pins its last-position outputs, read through
 * {@link #lastPosition()}.
 *
 * <p>On the host path a graph may also hold the same checkpoint's plain graph (no control inputs)
 * and run a batch whose control rows are all the identity through it: the identity reproduces the
 * plain graph bit for bit, and skipping the control ops makes such a step cheaper (most on small
 * models, where they weigh against a short step). It costs a second copy of the weights.
 */
public final class CausalLmGraph implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(CausalLmGraph.class);

    /**
     * Session settings: intra-op threads (0 lets ONNX Runtime choose), where the session runs
     * ({@code auto} is resolved at load), and how the KV cache is passed.
     */
    public record SessionConfig(int intraOpThreads, Execution execution, CacheBinding cache) {
        public static final SessionConfig DEFAULT = new SessionConfig(1);

        /**
         * AUTO: bound through IOBinding on a GPU (host buffers when this JVM cannot, saying so once),
         * host buffers on the CPU. HOST: always host buffers. IO_BINDING: always bound, an error when
         * this JVM cannot (on the CPU it runs the bound path over CPU memory: what the tests compare).
         */
        public enum CacheBinding { AUTO, HOST, IO_BINDING }

        public SessionConfig {
            if (intraOpThreads < 0) throw new IllegalArgumentException("intraOpThreads must be >= 0");
            if (execution == null || cache == null) throw new IllegalArgumentException("execution and cache binding are required");
        }

        public SessionConfig(int intraOpThreads) {
            this(intraOpThreads, Execution.CPU);
        }

        public SessionConfig(int intraOpThreads, Execution execution) {
            this(intraOpThreads, execution, CacheBinding.AUTO);
        }
    }

    /** Marks caches held in host buffers, which any host-path graph may use. */
    private static final Object HOST = new Object();

    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final BundleManifest manifest;
    private final OrtSession session;
    /** The plain graph for all-identity batches, or null. */
    private final OrtSession plain;
    private long identityRuns;
    private final Execution execution;
    /** Null on the host path. */
    private final BoundSession bound;
    private final int vocab;
    private LongBuffer ids = LongBuffer.allocate(0);
    private IntBuffer seqlens = IntBuffer.allocate(0);
    private FloatBuffer logits = FloatBuffer.allocate(0);
    private FloatBuffer heads = FloatBuffer.allocate(0), mlps = FloatBuffer.allocate(0);
    private FloatBuffer embedding = FloatBuffer.allocate(0), finalResidual = FloatBuffer.allocate(0);
    private int analysedRows;
    private final IntBuffer total1 = direct(1, 4).asIntBuffer();
    private final TensorViews views = new TensorViews(env);
    private DecodeArguments lastDecode;
    private final OrtSession.RunOptions runOptions;
    private boolean closed;

    private CausalLmGraph(BundleManifest manifest, OrtSession session, OrtSession plain, Execution execution, BoundSession bound) throws OrtException {
        this.manifest = manifest;
        this.session = session;
        this.plain = plain;
        this.execution = execution;
        this.bound = bound;
        this.vocab = manifest.dimensions().vocabSize();
        this.runOptions = new OrtSession.RunOptions();
    }

    public static CausalLmGraph load(Path bundle, SessionConfig config) throws IOException, OrtException {
        return load(bundle, null, config);
    }

    /**
     * @param plainBundle the same checkpoint's plain graph, run for batches of identity rows; null
     *                    for none. Used on the host path only (a bound cache belongs to one session).
     */
    public static CausalLmGraph load(Path bundle, Path plainBundle, SessionConfig config) throws IOException, OrtException {
        BundleManifest manifest = BundleManifest.read(bundle);
        if (!manifest.cache().inPlace()) {
            throw new IllegalArgumentException("bundle " + bundle + " has a concat cache; the runtime needs the in-place one");
        }
        manifest.cache().float16(); // an unknown cache dtype fails here, naming the field
        Execution execution = SessionFactory.resolve("execution", config.execution());
        OrtSession session = SessionFactory.create(bundle.resolve(manifest.graph()), execution, config.intraOpThreads());
        OrtSession plain = null;
        try {
            BoundSession bound = bind(session, execution, config.cache(), manifest.name());
            if (plainBundle != null && bound == null) {
                BundleManifest plainManifest = BundleManifest.read(plainBundle);
                checkPlainTwin(manifest, plainManifest, plainBundle);
                plain = SessionFactory.create(plainBundle.resolve(plainManifest.graph()), execution, config.intraOpThreads());
            }
            return new CausalLmGraph(manifest, session, plain, execution, bound);
        } catch (OrtException | IOException | RuntimeException e) {
            if (plain != null) plain.close();
            session.close();
            throw e;
        }
    }

    /** The plain graph must take the same cache and give the same logits, only without the control inputs. */
    private static void checkPlainTwin(BundleManifest steerable, BundleManifest plain, Path where) {
        if (!steerable.steerable() || steerable.analysis() || plain.steerable()
                || !plain.dimensions().equals(steerable.dimensions()) || plain.maxLength() != steerable.maxLength()
                || !plain.cache().equals(steerable.cache()) || !plain.logits().equals(steerable.logits())) {
            throw new IllegalArgumentException("bundle " + where + " is not the plain twin of steerable model " + steerable.name()
                    + " (same dimensions, cache and logits, no control inputs)");
        }
    }

    private static BoundSession bind(OrtSession session, Execution execution, SessionConfig.CacheBinding cache, String name) throws OrtException {
        return switch (cache) {
            case HOST -> null;
            case IO_BINDING -> BoundSession.open(session, execution);
            case AUTO -> {
                if (!execution.onGpu()) yield null;
                try {
                    yield BoundSession.open(session, execution);
                } catch (UnsupportedOperationException e) {
                    LOG.warnf("model %s on %s: KV cache in host memory, copied to the device and back every step: %s",
                            name, execution.label(), e.getMessage());
                    yield null;
                }
            }
        };
    }

    public BundleManifest manifest() {
        return manifest;
    }

    /** Where the session runs: {@code cpu} or {@code cuda:N}, never {@code auto}. */
    public Execution execution() {
        return execution;
    }

    /** {@code device} when the KV cache is allocated by the session and bound through IOBinding, {@code host} when it is Java memory passed to every run. */
    public String cacheLocation() {
        return bound != null ? "device" : "host";
    }

    /** Whether all-identity batches run the plain graph. */
    public boolean plainForIdentity() {
        return plain != null;
    }

    /** Forward passes that ran the plain graph because every row was the identity. */
    public long identityRuns() {
        return identityRuns;
    }

    /** The IOBinding layer, or null on the host path. */
    BoundSession boundSession() {
        return bound;
    }

    /**
     * Runs cache slots [firstSlot, firstSlot + rows): row i appends {@code seqLen} tokens
     * ({@code tokens[i*seqLen ..]}) after its {@code pastLengths[i]} cached positions, under the
     * first {@code rows} rows of {@code controls} (null only for a plain graph).
     *
     * @return logits [rows, V] (or [rows, seqLen, V] for an all-logits graph), valid until the next call
     */
    public FloatBuffer forward(KvCache cache, int firstSlot, int rows, int seqLen, long[] tokens, int[] pastLengths,
                               ControlBatch controls) throws OrtException {
        if (tokens.length != rows * seqLen || pastLengths.length < rows) {
            throw new IllegalArgumentException("expected " + rows + "x" + seqLen + " tokens and " + rows + " past lengths");
        }
        if (manifest.steerable() != (controls != null)) {
            throw new IllegalArgumentException(manifest.steerable() ? "this graph needs control rows" : "this graph has no control inputs");
        }
        if (controls != null && controls.capacity() < rows) throw new IllegalArgumentException("control batch has fewer than " + rows + " rows");
        int total = 0;
        ids = ensure(ids, rows * seqLen);
        seqlens = ensure(seqlens, rows);
        for (int i = 0; i < rows; i++) {
            int length = pastLengths[i] + seqLen;
            if (pastLengths[i] < 0 || length > manifest.maxLength()) {
                throw new IllegalArgumentException("row " + i + " would reach " + length + " positions; max length is " + manifest.maxLength());
            }
            seqlens.put(i, length - 1);
            total = Math.max(total, length);
        }
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= vocab) throw new IllegalArgumentException("token id " + tokens[i] + " is outside the vocabulary of " + vocab);
            ids.put(i, tokens[i]);
        }
        boolean all = manifest.logits().equals("all");
        int logitCount = rows * (all ? seqLen : 1) * vocab;
        logits = ensure(logits, logitCount);

        total1.put(0, total);
        var d = manifest.dimensions();
        if (!cache.geometry().equals(CacheGeometry.of(manifest, cache.slots()))) {
            throw new IllegalArgumentException("this KV cache was made for another graph: " + cache.geometry());
        }
        CacheStorage storage = bound != null ? cache.storage(bound, bound::allocate) : cache.storage(HOST, HostCacheStorage::new);
        storage.geometry().checkSlots(firstSlot, rows);
        // the identity reproduces the plain graph bit for bit: an all-identity batch skips the control ops
        boolean plainRun = plain != null && controls != null && controls.identity(rows);
        // a decode pass like the last one (same rows, buffers and session) runs on the same argument maps
        boolean reusable = seqLen == 1 && bound == null && !manifest.analysis();
        DecodeArguments reused = reusable && lastDecode != null
                && lastDecode.fits(ids, seqlens, logits, controls, storage, firstSlot, rows, plainRun) ? lastDecode : null;
        Map<String, OnnxTensor> inputs = reused != null ? reused.inputs() : new HashMap<>();
        Map<String, OnnxTensor> pinned = reused != null ? reused.pinned() : new HashMap<>();
        // a prompt's [1, S] ids and [1, S, V] logits change shape with every prompt: not worth keeping
        OnnxTensor promptIds = seqLen > 1 ? OnnxTensor.createTensor(env, ids.slice(0, rows * seqLen), new long[]{rows, seqLen}) : null;
        OnnxTensor allLogits = seqLen > 1 && all
                ? OnnxTensor.createTensor(env, logits.slice(0, logitCount), new long[]{rows, seqLen, vocab}) : null;
        try {
            if (reused == null) {
                inputs.put(INPUT_IDS, promptIds != null ? promptIds : views.view(ids, 0, new long[]{rows, 1}));
                inputs.put(SEQLENS_K, views.view(seqlens, 0, new long[]{rows}));
                inputs.put(TOTAL_SEQUENCE_LENGTH, views.view(total1, 0, new long[]{}));
                if (controls != null && !plainRun) {
                    inputs.put(HEAD_GAIN, views.view(controls.gain(), 0, new long[]{rows, d.layers(), d.heads()}));
                    inputs.put(HEAD_BIAS, views.view(controls.bias(), 0, new long[]{rows, d.layers(), d.heads(), d.headDim()}));
                    inputs.put(ATTN_IDENTITY_MIX, views.view(controls.mix(), 0, new long[]{rows, d.layers(), d.heads()}));
                }
                pinned.put(LOGITS, allLogits != null ? allLogits
                        : views.view(logits, 0, all ? new long[]{rows, 1, vocab} : new long[]{rows, vocab}));
                analysedRows = 0;
                if (manifest.analysis()) pinAnalysisOutputs(pinned, rows);
                if (bound == null) { // the host cache's rows, read and written in place
                    HostCacheStorage host = (HostCacheStorage) storage;
                    long[] cacheShape = host.geometry().shape(rows);
                    int offset = host.offset(firstSlot);
                    for (int l = 0; l < d.layers(); l++) {
                        OnnxTensor k = views.view(host.keys(l), offset, cacheShape);
                        OnnxTensor v = views.view(host.values(l), offset, cacheShape);
                        inputs.put(pastKey(l), k);
                        inputs.put(pastValue(l), v);
                        pinned.put(presentKey(l), k);
                        pinned.put(presentValue(l), v);
                    }
                }
            }
            if (bound != null) {
                bound.run(inputs, pinned, storage, firstSlot, rows);
            } else {
                (plainRun ? plain : session).run(inputs, Set.of(), pinned, runOptions).close();
                if (plainRun) identityRuns++;
                if (reusable && reused == null) {
                    lastDecode = new DecodeArguments(ids, seqlens, logits, controls, storage, firstSlot, rows, plainRun, inputs, pinned);
                }
            }
            if (manifest.analysis()) analysedRows = rows;
            return logits.slice(0, logitCount).asReadOnlyBuffer();
        } finally {
            if (promptIds != null) promptIds.close();
            if (allLogits != null) allLogits.close();
        }
    }

    /**
     * The argument maps of the last host-path decode pass and what they were made over: the buffers
     * (compared by identity: they are replaced when they grow), the cache rows and the session. The
     * maps hold only views over those buffers, whose contents change in place.
     */
    private record DecodeArguments(LongBuffer ids, IntBuffer seqlens, FloatBuffer logits, ControlBatch controls, CacheStorage storage,
                                   int firstSlot, int rows, boolean plainRun, Map<String, OnnxTensor> inputs, Map<String, OnnxTensor> pinned) {
        boolean fits(LongBuffer ids, IntBuffer seqlens, FloatBuffer logits, ControlBatch controls, CacheStorage storage,
                     int firstSlot, int rows, boolean plainRun) {
            return this.ids == ids && this.seqlens == seqlens && this.logits == logits && this.controls == controls
                    && this.storage == storage && this.firstSlot == firstSlot && this.rows == rows && this.plainRun == plainRun;
        }
    }

    private void pinAnalysisOutputs(Map<String, OnnxTensor> pinned, int rows) throws OrtException {
        var d = manifest.dimensions();
        heads = ensure(heads, rows * d.layers() * d.heads() * d.headDim());
        mlps = ensure(mlps, rows * d.layers() * d.modelDim());
        embedding = ensure(embedding, rows * d.modelDim());
        finalResidual = ensure(finalResidual, rows * d.modelDim());
        pinned.put(HEAD_OUTPUTS, views.view(heads, 0, new long[]{rows, d.layers(), d.heads(), d.headDim()}));
        pinned.put(MLP_OUTPUTS, views.view(mlps, 0, new long[]{rows, d.layers(), d.modelDim()}));
        pinned.put(EMBEDDING, views.view(embedding, 0, new long[]{rows, d.modelDim()}));
        pinned.put(FINAL_RESIDUAL, views.view(finalResidual, 0, new long[]{rows, d.modelDim()}));
    }

    /** The last forward pass's analysis outputs, valid until the next call. */
    public LastPosition lastPosition() {
        if (!manifest.analysis()) throw new IllegalStateException("bundle " + manifest.name() + " has no analysis outputs");
        if (analysedRows == 0) throw new IllegalStateException("no forward pass yet");
        return new LastPosition(manifest.dimensions(), analysedRows, heads.asReadOnlyBuffer(), mlps.asReadOnlyBuffer(),
                embedding.asReadOnlyBuffer(), finalResidual.asReadOnlyBuffer());
    }

    // Buffers grow geometrically: each new buffer strands the tensor views made over the old one.
    private static LongBuffer ensure(LongBuffer b, int n) {
        return b.capacity() >= n ? b : direct(Math.max(n, 2 * b.capacity()), 8).asLongBuffer();
    }

    private static IntBuffer ensure(IntBuffer b, int n) {
        return b.capacity() >= n ? b : direct(Math.max(n, 2 * b.capacity()), 4).asIntBuffer();
    }

    private static FloatBuffer ensure(FloatBuffer b, int n) {
        return b.capacity() >= n ? b : direct(Math.max(n, 2 * b.capacity()), 4).asFloatBuffer();
    }

    private static ByteBuffer direct(int elements, int width) {
        return ByteBuffer.allocateDirect(elements * width).order(ByteOrder.nativeOrder());
    }

    /**
     * Aborts a forward pass in flight (from any thread): it, and every later one, fails. For
     * shutdown, so a long prefill does not hold the scheduler thread.
     */
    public void interrupt() {
        try {
            runOptions.setTerminate(true);
        } catch (OrtException e) {
            throw new IllegalStateException("cannot interrupt the graph of " + manifest.name(), e);
        }
    }

    /** Whether {@link #close()} has released the session. */
    public synchronized boolean closed() {
        return closed;
    }

    @Override
    public synchronized void close() throws OrtException {
        if (!closed) {
            views.close();
            if (bound != null) bound.close(); // frees the caches it allocated, before the session they came from
            runOptions.close();
            session.close();
            if (plain != null) plain.close();
        }
        closed = true;
    }
}
