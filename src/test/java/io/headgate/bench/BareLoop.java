package io.headgate.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.headgate.model.BundleManifest;
import io.headgate.model.Execution;
import io.headgate.model.GraphContract;
import io.headgate.model.SessionFactory;
import io.headgate.model.lm.CausalLmContract;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The floor: a greedy decode loop straight on ONNX Runtime, every tensor created once over direct
 * buffers that each step updates in place — no scheduler, no gRPC, no per-step allocation.
 * For a concat-cache graph, each step's present tensors become the next step's past, as a PyTorch
 * export is driven.
 *
 * <p>A {@link Decoder} runs in blocks of steps, so two decoders can be timed alternately, block by
 * block, under the same conditions.
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
        // the gateway's session options (optimisation level, threads): the loops differ in what runs around the graph, not in the graph
        this.session = SessionFactory.create(bundle.resolve(manifest.graph()), Execution.CPU, threads);
        this.rows = rows;
    }

    /** Controls for every row: identity, or every head steered (gain, bias and mix all off identity). */
    static float[][] controls(BundleManifest.Dimensions d, boolean steered) {
        int heads = d.layers() * d.heads();
        float[] gain = new float[heads], bias = new float[heads * d.headDim()], mix = new float[heads];
        Arrays.fill(gain, steered ? 1.1f : 1f);
        if (steered) {
            Arrays.fill(bias, 0.01f);
            Arrays.fill(mix, 0.1f);
        }
        return new float[][]{gain, bias, mix};
    }

    /**
     * A decoder over its own cache: prompts of {@code promptLength} tokens, then up to {@code tokens}
     * decode steps before it starts again from the prompt (the prefill is not timed).
     */
    Decoder decoder(int promptLength, int tokens, boolean steered) throws Exception {
        return new Decoder(promptLength, tokens, steered);
    }

    final class Decoder implements AutoCloseable {
        private final int promptLength, tokens;
        private final List<OnnxTensor> owned = new ArrayList<>();
        private final Map<String, OnnxTensor> inputs = new HashMap<>();
        private final Map<String, OnnxValue> pinned = new HashMap<>();
        private final Map<String, OnnxTensor> emptyPasts = new HashMap<>();
        private final Set<String> requested;
        private final OnnxTensor promptIds, nextIds;
        private final LongBuffer next;
        private final IntBuffer seqlens, total;
        private final FloatBuffer logits;
        private List<OnnxValue> carried = new ArrayList<>(); // concat cache: the previous step's presents
        private int position = -1; // decode steps taken since the last prefill; -1: prefill first

        private Decoder(int promptLength, int tokens, boolean steered) throws Exception {
            this.promptLength = promptLength;
            this.tokens = tokens;
            var d = manifest.dimensions();
            if (manifest.steerable()) {
                float[][] c = controls(d, steered);
                inputs.put(GraphContract.HEAD_GAIN, own(OnnxTensor.createTensor(env, repeat(c[0]), new long[]{rows, d.layers(), d.heads()})));
                inputs.put(GraphContract.HEAD_BIAS, own(OnnxTensor.createTensor(env, repeat(c[1]), new long[]{rows, d.layers(), d.heads(), d.headDim()})));
                inputs.put(GraphContract.ATTN_IDENTITY_MIX, own(OnnxTensor.createTensor(env, repeat(c[2]), new long[]{rows, d.layers(), d.heads()})));
            }
            LongBuffer prompt = longs(rows * promptLength);
            for (int i = 0; i < rows * promptLength; i++) prompt.put(i, 1 + (i * 7) % (d.vocabSize() - 1));
            seqlens = ints(rows);
            total = ints(1);
            inputs.put(CausalLmContract.SEQLENS_K, own(OnnxTensor.createTensor(env, seqlens, new long[]{rows})));
            inputs.put(CausalLmContract.TOTAL_SEQUENCE_LENGTH, own(OnnxTensor.createTensor(env, total, new long[]{})));
            promptIds = own(OnnxTensor.createTensor(env, prompt, new long[]{rows, promptLength}));
            next = longs(rows);
            nextIds = own(OnnxTensor.createTensor(env, next, new long[]{rows, 1}));
            logits = floats(rows * d.vocabSize());
            pinned.put(CausalLmContract.LOGITS, own(OnnxTensor.createTensor(env, logits, new long[]{rows, d.vocabSize()})));
            boolean inPlace = manifest.cache().inPlace();
            for (int l = 0; l < d.layers(); l++) {
                long past = inPlace ? manifest.maxLength() : 0;
                long[] shape = {rows, d.kvHeads(), past, d.headDim()};
                OnnxTensor k = own(OnnxTensor.createTensor(env, floats((int) (rows * d.kvHeads() * past * d.headDim())), shape));
                OnnxTensor v = own(OnnxTensor.createTensor(env, floats((int) (rows * d.kvHeads() * past * d.headDim())), shape));
                emptyPasts.put(CausalLmContract.pastKey(l), k);
                emptyPasts.put(CausalLmContract.pastValue(l), v);
                if (inPlace) {
                    pinned.put(CausalLmContract.presentKey(l), k);
                    pinned.put(CausalLmContract.presentValue(l), v);
                }
            }
            requested = inPlace ? Set.of() : presentNames(d.layers());
        }

        /** Seconds per step over the next {@code steps} decode steps. */
        double block(int steps) throws Exception {
            if (steps > tokens) throw new IllegalArgumentException("a block of " + steps + " steps exceeds " + tokens);
            if (position < 0 || position + steps > tokens) prefill();
            var d = manifest.dimensions();
            long t0 = System.nanoTime();
            for (int t = 0; t < steps; t++, position++) {
                for (int r = 0; r < rows; r++) {
                    next.put(r, argmax(logits, r * d.vocabSize(), d.vocabSize()));
                    seqlens.put(r, promptLength + position);
                }
                total.put(0, promptLength + position + 1);
                step(d.layers());
            }
            return (System.nanoTime() - t0) / 1e9 / steps;
        }

        /**
         * One stream of {@code tokens} tokens timed as the gateway's client times one: the prefill
         * (which gives the first token), then {@code tokens - 1} decode steps.
         */
        BenchmarkSuite.TokenTimes stream() throws Exception {
            long t0 = System.nanoTime();
            prefill();
            long first = System.nanoTime();
            block(tokens - 1);
            long last = System.nanoTime();
            return new BenchmarkSuite.TokenTimes((last - first) / 1e9 / (tokens - 1), (last - t0) / 1e9 / tokens);
        }

        /** One generation of {@code tokens} steps after a fresh prefill: seconds per step. */
        double generation() throws Exception {
            position = -1;
            return block(tokens);
        }

        private void prefill() throws Exception {
            for (OnnxValue v : carried) v.close();
            carried = new ArrayList<>();
            inputs.putAll(emptyPasts);
            for (int r = 0; r < rows; r++) seqlens.put(r, promptLength - 1);
            total.put(0, promptLength);
            inputs.put(CausalLmContract.INPUT_IDS, promptIds);
            step(manifest.dimensions().layers());
            inputs.put(CausalLmContract.INPUT_IDS, nextIds);
            position = 0;
        }

        /** One run; for a concat cache, feeds the presents back as pasts and closes the previous ones. */
        private void step(int layers) throws Exception {
            OrtSession.Result result = session.run(inputs, requested, pinned);
            if (requested.isEmpty()) {
                result.close();
                return;
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
            for (OnnxValue p : carried) p.close();
            carried = presents; // the Result is not closed: its tensors live on as the next inputs
        }

        private OnnxTensor own(OnnxTensor t) {
            owned.add(t);
            return t;
        }

        @Override
        public void close() {
            for (OnnxValue v : carried) v.close();
            owned.forEach(OnnxTensor::close);
        }
    }

    private static Set<String> presentNames(int layers) {
        Set<String> names = new HashSet<>();
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
