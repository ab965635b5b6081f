package io.headgate.convert;

import io.headgate.convert.onnx.TensorProto.DataType;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

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
 * Writes a Llama-family decoder as a steerable ONNX graph, layer by layer ({@link LlamaBlocks} writes
 * the blocks, this class the token embedding, the cached attention and the logits):
 *
 * <pre>
 *   x = embed[ids]
 *   per layer l:
 *     h = rmsnorm(x)
 *     z, K_l, V_l = GroupQueryAttention(h·Wq, h·Wk, h·Wv, cache_l)   rotary inside, cache in place
 *     z ← g·((1−u)·z + u·v_self) + b                                   per head, as a·z + c·v_self + b
 *     x = x + z·Wo
 *     x = x + (silu(rmsnorm(x)·Wg) ⊙ rmsnorm(x)·Wu)·Wd
 *   logits = rmsnorm(x[last])·Wlm                                    (or every position)
 * </pre>
 *
 * <p>An analysis graph also outputs, at the last position, the terms whose sum is x[last]: the
 * embedding, each head's steered z (o_proj is applied outside, per head) and each MLP's output.
 */
final class SteerableLlamaGraph {

    /**
     * controls: emit head_gain/head_bias/attn_identity_mix; allLogits: logits at every position;
     * concatCache: past_key [B, K, past, Dh] in, present_key [B, K, past + S, Dh] out, as a PyTorch
     * export gives (benchmarks only: the runtime uses the static in-place cache); analysis: the
     * last-position outputs for head discovery; float16: weights, rotary tables, activations and
     * the KV cache in fp16 (what CUDA's GroupQueryAttention needs), controls and outputs still fp32.
     */
    record Options(boolean controls, boolean allLogits, int maxLength, boolean concatCache, boolean analysis, boolean float16) {
        Options {
            if (maxLength <= 0) throw new IllegalArgumentException("maxLength must be positive");
        }
    }

    private final LlamaConfig c;
    private final Options options;
    /** The element type of weights, activations and the cache. */
    private final DataType compute;
    private final CheckpointWeights weights;
    private final OnnxGraphBuilder g;
    private final Consumer<String> progress;
    private final LlamaBlocks blocks;
    private final Set<String> sharedConstants = new HashSet<>();
    /** Analysis graphs: per layer, the steered head outputs and the MLP output at the last position. */
    private final List<String> headTaps = new ArrayList<>(), mlpTaps = new ArrayList<>();

    SteerableLlamaGraph(LlamaConfig config, Options options, CheckpointWeights weights, OnnxGraphBuilder builder,
                        Consumer<String> progress) {
        this.c = config;
        this.options = options;
        this.compute = options.float16() ? DataType.FLOAT16 : DataType.FLOAT;
        this.weights = weights;
        this.g = builder;
        this.progress = progress;
        this.blocks = new LlamaBlocks(config.blocks(), weights, builder, compute);
    }

    /** The tensors this config needs, with their Hugging Face shapes ([out, in] for linear layers). */
    static LinkedHashMap<String, long[]> expectedTensors(LlamaConfig c) {
        LinkedHashMap<String, long[]> t = new LinkedHashMap<>();
        t.put("model.embed_tokens.weight", new long[]{c.vocabSize(), c.hiddenSize()});
        LlamaBlocks.expectedTensors(c.blocks(), t);
        t.put("model.norm.weight", new long[]{c.hiddenSize()});
        if (!c.tiedEmbeddings()) t.put("lm_head.weight", new long[]{c.vocabSize(), c.hiddenSize()});
        return t;
    }

    void write() throws IOException {
        declareInputsAndOutputs();
        String cos = g.weight("rope_cos", FloatBuffer.wrap(rope(true)), compute, options.maxLength(), c.headDim() / 2);
        String sin = g.weight("rope_sin", FloatBuffer.wrap(rope(false)), compute, options.maxLength(), c.headDim() / 2);
        String x = g.op("Gather", g.weight("embed_tokens", weights.read("model.embed_tokens.weight"), compute,
                c.vocabSize(), c.hiddenSize()), INPUT_IDS);
        if (options.analysis()) output(EMBEDDING, "Gather", new String[]{x, lastPosition()}, Map.of("axis", 1L));
        LlamaBlocks.LayerControls[] controls = options.controls() ? blocks.splitControls() : null;
        for (int l = 0; l < c.layers(); l++) {
            progress.accept("layer " + (l + 1) + "/" + c.layers());
            x = layer(l, x, cos, sin, controls == null ? null : controls[l]);
        }
        if (options.analysis()) writeAnalysisOutputs(x);
        if (!options.allLogits()) {
            x = g.op("Gather", new String[]{x, lastPosition()}, Map.of("axis", 1L));
        }
        x = blocks.rmsNorm(x, "model.norm.weight");
        String lmHead = c.tiedEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight";
        output(LOGITS, "MatMul", new String[]{x, g.weight("lm_head", weights.readTransposed(lmHead), compute, c.hiddenSize(), c.vocabSize())},
                Map.of());
    }

    /** A node whose result is the float graph output {@code name}: directly, or through a Cast to fp32 in an fp16 graph. */
    private void output(String name, String opType, String[] inputs, Map<String, Object> attributes) {
        if (compute == DataType.FLOAT) {
            g.nodeNamed("", opType, inputs, new String[]{name}, attributes);
        } else {
            g.nodeNamed("", "Cast", new String[]{g.op(opType, inputs, attributes)}, new String[]{name}, Map.of("to", (long) DataType.FLOAT.getNumber()));
        }
    }

    private void declareInputsAndOutputs() {
        int max = options.maxLength();
        g.input(INPUT_IDS, DataType.INT64, "batch", "sequence");
        g.input(SEQLENS_K, DataType.INT32, "batch");
        g.input(TOTAL_SEQUENCE_LENGTH, DataType.INT32);
        if (options.controls()) {
            g.input(HEAD_GAIN, DataType.FLOAT, "batch", c.layers(), c.heads());
            g.input(HEAD_BIAS, DataType.FLOAT, "batch", c.layers(), c.heads(), c.headDim());
            g.input(ATTN_IDENTITY_MIX, DataType.FLOAT, "batch", c.layers(), c.heads());
        }
        Object past = options.concatCache() ? "past_sequence" : max;
        Object present = options.concatCache() ? "total_sequence" : max;
        for (int l = 0; l < c.layers(); l++) {
            g.input(pastKey(l), compute, "batch", c.kvHeads(), past, c.headDim());
            g.input(pastValue(l), compute, "batch", c.kvHeads(), past, c.headDim());
        }
        if (options.allLogits()) g.output(LOGITS, DataType.FLOAT, "batch", "sequence", c.vocabSize());
        else g.output(LOGITS, DataType.FLOAT, "batch", c.vocabSize());
        if (options.analysis()) {
            g.output(HEAD_OUTPUTS, DataType.FLOAT, "batch", c.layers(), c.heads(), c.headDim());
            g.output(MLP_OUTPUTS, DataType.FLOAT, "batch", c.layers(), c.hiddenSize());
            g.output(EMBEDDING, DataType.FLOAT, "batch", c.hiddenSize());
            g.output(FINAL_RESIDUAL, DataType.FLOAT, "batch", c.hiddenSize());
        }
        for (int l = 0; l < c.layers(); l++) {
            g.output(presentKey(l), compute, "batch", c.kvHeads(), present, c.headDim());
            g.output(presentValue(l), compute, "batch", c.kvHeads(), present, c.headDim());
        }
    }

    /** cos or sin of position·θ_i, [maxLength, Dh/2]; GroupQueryAttention applies them rotate-half style. */
    private float[] rope(boolean cosine) {
        double[] inv = c.ropeInverseFrequencies();
        float[] out = new float[options.maxLength() * inv.length];
        for (int p = 0; p < options.maxLength(); p++) {
            for (int i = 0; i < inv.length; i++) {
                double angle = p * inv[i];
                out[p * inv.length + i] = (float) (cosine ? Math.cos(angle) : Math.sin(angle));
            }
        }
        return out;
    }

    private String layer(int l, String x, String cos, String sin, LlamaBlocks.LayerControls controls) throws IOException {
        LlamaBlocks.Block block = blocks.block(l, x, (layer, q, k, v) -> groupQueryAttention(layer, q, k, v, cos, sin), controls);
        if (options.analysis()) {
            headTaps.add(atLastPosition(block.heads()));
            mlpTaps.add(atLastPosition(block.mlp()));
        }
        return block.residual();
    }

    /** ONNX Runtime's GroupQueryAttention: rotary inside, the layer's cache updated in place. */
    private String groupQueryAttention(int l, String q, String k, String v, String cos, String sin) {
        Map<String, Object> attrs = new LinkedHashMap<>();
        attrs.put("num_heads", (long) c.heads());
        attrs.put("kv_num_heads", (long) c.kvHeads());
        attrs.put("do_rotary", 1L);
        attrs.put("rotary_interleaved", 0L);
        // both count the query itself: position i sees keys i-W+1 .. i (checked against the reference)
        if (c.slidingWindow() > 0 && c.slidingWindow() < options.maxLength()) attrs.put("local_window_size", (long) c.slidingWindow());
        String z = "attn_" + l;
        g.nodeNamed(OnnxGraphBuilder.MS_DOMAIN, "GroupQueryAttention",
                new String[]{q, k, v, pastKey(l), pastValue(l), SEQLENS_K, TOTAL_SEQUENCE_LENGTH, cos, sin},
                new String[]{z, presentKey(l), presentValue(l)}, attrs);
        return z;
    }

    /**
     * head_outputs [B, L, H, Dh] and mlp_outputs [B, L, D] from the per-layer taps, and the final
     * residual [B, D]: every term of x[last] but o_proj's bias, which the caller adds from the weights.
     */
    private void writeAnalysisOutputs(String x) throws IOException {
        String[] heads = new String[c.layers()], mlps = new String[c.layers()];
        for (int l = 0; l < c.layers(); l++) {
            heads[l] = g.op("Reshape", headTaps.get(l), shared("shape_layer_heads", 0, 1, c.heads(), c.headDim()));
            mlps[l] = g.op("Reshape", mlpTaps.get(l), shared("shape_layer_hidden", 0, 1, c.hiddenSize()));
        }
        Map<String, Object> axis1 = Map.of("axis", 1L);
        output(HEAD_OUTPUTS, "Concat", heads, axis1);
        output(MLP_OUTPUTS, "Concat", mlps, axis1);
        output(FINAL_RESIDUAL, "Gather", new String[]{x, lastPosition()}, axis1);
    }

    /** [B, S, W] → [B, W] at the last position. */
    private String atLastPosition(String t) throws IOException {
        return g.op("Gather", new String[]{t, lastPosition()}, Map.of("axis", 1L));
    }

    private String lastPosition() throws IOException {
        if (sharedConstants.add("last_position")) g.scalarLong("last_position", -1);
        return "last_position";
    }

    private String shared(String name, long... values) throws IOException {
        return blocks.shared(name, values);
    }
}
