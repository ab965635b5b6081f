package io.headgate.bench;

import io.headgate.model.lm.CausalLmContract;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.headgate.model.BundleManifest;
import io.headgate.model.GraphContract;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The floor: a greedy decode loop straight on ONNX Runtime, every tensor created once over direct
 * buffers that each step updates in place — no scheduler, no gRPC, no per-step allocation.
 * For a concat-cache graph, each step's present tensors become the next step's past, as a PyTorch
 * export is driven.
 */
final class BareLoop implements AutoCloseable {

    /** ONNX Runtime intra-op threads, for the bare loops and the gateway alike. */
    static int threads = 1;

    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final BundleManifest manifest;
    private final OrtSession session;
    private final int rows;

    BareLoop(Path bundle, int rows) throws Exception {
        this.manifest = BundleManifest.read(bundle);
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(threads);
            this.session = env.createSession(bundle.resolve(manifest.graph()).toString(), options);
        }
        this.rows = rows;
    }

    /** Controls for every row: identity, or every head steered (gain, bias and mix all off identity). */
    static float[][] controls(BundleManifest.Dimensions d, boolean steered) {
        int heads = d.layers() * d.heads();
        float[] gain = new float[heads], bias = new float[heads * d.headDim()], mix = new float[heads];
        java.util.Arrays.fill(gain, steered ? 1.1f : 1f);
        if (steered) {
            java.util.Arrays.fill(bias, 0.01f);
            java.util.Arrays.fill(mix, 0.1f);
        }
        return new float[][]{gain, bias, mix};
    }

    /** Decodes {@code tokens} steps after a prompt of {@code promptLength}; returns seconds per step. */
    double secondsPerStep(int promptLength, int tokens, boolean steered) throws Exception {
        var d = manifest.dimensions();
        List<OnnxTensor> owned = new ArrayList<>();
        try {
            Map<String, OnnxTensor> inputs = new HashMap<>();
            if (manifest.steerable()) {
                float[][] c = controls(d, steered);
                inputs.put(GraphContract.HEAD_GAIN, own(owned, OnnxTensor.createTensor(env, repeat(c[0]), new long[]{rows, d.layers(), d.heads()})));
                inputs.put(GraphContract.HEAD_BIAS, own(owned, OnnxTensor.createTensor(env, repeat(c[1]), new long[]{rows, d.layers(), d.heads(), d.headDim()})));
                inputs.put(GraphContract.ATTN_IDENTITY_MIX, own(owned, OnnxTensor.createTensor(env, repeat(c[2]), new long[]{rows, d.layers(), d.heads()})));
            }
            LongBuffer prompt = longs(rows * promptLength);
            for (int i = 0; i < rows * promptLength; i++) prompt.put(i, 1 + (i * 7) % (d.vocabSize() - 1));
            IntBuffer seqlens = ints(rows);
            IntBuffer total = ints(1);
            for (int r = 0; r < rows; r++) seqlens.put(r, promptLength - 1);
            total.put(0, promptLength);
            inputs.put(CausalLmContract.SEQLENS_K, own(owned, OnnxTensor.createTensor(env, seqlens, new long[]{rows})));
            inputs.put(CausalLmContract.TOTAL_SEQUENCE_LENGTH, own(owned, OnnxTensor.createTensor(env, total, new long[]{})));
            inputs.put(CausalLmContract.INPUT_IDS, own(owned, OnnxTensor.createTensor(env, prompt, new long[]{rows, promptLength})));
            FloatBuffer logits = floats(rows * d.vocabSize());
            Map<String, OnnxValue> pinned = new HashMap<>();
            pinned.put(CausalLmContract.LOGITS, own(owned, OnnxTensor.createTensor(env, logits, new long[]{rows, d.vocabSize()})));
            boolean inPlace = manifest.cache().inPlace();
            List<OnnxValue> carried = new ArrayList<>(); // concat cache: the previous step's presents
            for (int l = 0; l < d.layers(); l++) {
                long past = inPlace ? manifest.maxLength() : 0;
                long[] shape = {rows, d.kvHeads(), past, d.headDim()};
                OnnxTensor k = own(owned, OnnxTensor.createTensor(env, floats((int) (rows * d.kvHeads() * past * d.headDim())), shape));
                OnnxTensor v = own(owned, OnnxTensor.createTensor(env, floats((int) (rows * d.kvHeads() * past * d.headDim())), shape));
                inputs.put(CausalLmContract.pastKey(l), k);
                inputs.put(CausalLmContract.pastValue(l), v);
                if (inPlace) {
                    pinned.put(CausalLmContract.presentKey(l), k);
                    pinned.put(CausalLmContract.presentValue(l), v);
                }
            }
            Set<String> requested = inPlace ? Set.of() : presentNames(d.layers());
            carried = step(inputs, requested, pinned, carried, d.layers());

            LongBuffer next = longs(rows);
            inputs.put(CausalLmContract.INPUT_IDS, own(owned, OnnxTensor.createTensor(env, next, new long[]{rows, 1})));
            long t0 = System.nanoTime();
            for (int t = 0; t < tokens; t++) {
                for (int r = 0; r < rows; r++) {
                    next.put(r, argmax(logits, r * d.vocabSize(), d.vocabSize()));
                    seqlens.put(r, promptLength + t);
                }
                total.put(0, promptLength + t + 1);
                carried = step(inputs, requested, pinned, carried, d.layers());
            }
            double perStep = (System.nanoTime() - t0) / 1e9 / tokens;
            for (OnnxValue v : carried) v.close();
            return perStep;
        } finally {
            owned.forEach(OnnxTensor::close);
        }
    }

    /** One run; for a concat cache, feeds the presents back as pasts and closes the previous ones. */
    private List<OnnxValue> step(Map<String, OnnxTensor> inputs, Set<String> requested, Map<String, OnnxValue> pinned,
                                 List<OnnxValue> previous, int layers) throws Exception {
        OrtSession.Result result = session.run(inputs, requested, pinned);
        if (requested.isEmpty()) {
            result.close();
            return previous;
        }
        List<OnnxValue> presents = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            OnnxTensor k = (OnnxTensor) result.get(CausalLmContract.presentKey(l)).orElseThrow();
            OnnxTensor v = (OnnxTensor) result.get(CausalLmContract.presentValue(l)).orElseThrow();
            inputs.put(CausalLmContract.pastKey(l), k);
            inputs.put(CausalLmContract.pastValue(l), v);
            presents.add(k);
            presents.add(v);
        }
        for (OnnxValue p : previous) p.close();
        return presents; // the Result is not closed: its tensors live on as the next inputs
    }

    private static Set<String> presentNames(int layers) {
        Set<String> names = new java.util.HashSet<>();
        for (int l = 0; l < layers; l++) {
            names.add(CausalLmContract.presentKey(l));
            names.add(CausalLmContract.presentValue(l));
        }
        return names;
    }

    private FloatBuffer repeat(float[] row) {
        FloatBuffer b = floats(rows * row.length);
        for (int r = 0; r < rows; r++) b.put(r * row.length, row);
        return b;
    }

    static long argmax(FloatBuffer logits, int offset, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (logits.get(offset + i) > logits.get(offset + best)) best = i;
        return best;
    }

    private static OnnxTensor own(List<OnnxTensor> owned, OnnxTensor t) {
        owned.add(t);
        return t;
    }

    static FloatBuffer floats(int n) {
        return ByteBuffer.allocateDirect(Math.max(4, n * 4)).order(ByteOrder.nativeOrder()).asFloatBuffer().limit(n);
    }

    static IntBuffer ints(int n) {
        return ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder()).asIntBuffer();
    }

    static LongBuffer longs(int n) {
        return ByteBuffer.allocateDirect(n * 8).order(ByteOrder.nativeOrder()).asLongBuffer();
    }

    @Override
    public void close() throws Exception {
        session.close();
    }
}
