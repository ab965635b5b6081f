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
 * Writes a Llama-family decoder as a steerable ONNX graph, layer by layer:
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
    }

    /** The tensors this config needs, with their Hugging Face shapes ([out, in] for linear layers). */
    static LinkedHashMap<String, long[]> expectedTensors(LlamaConfig c) {
        LinkedHashMap<String, long[]> t = new LinkedHashMap<>();
        long d = c.hiddenSize(), q = (long) c.heads() * c.headDim(), kv = (long) c.kvHeads() * c.headDim();
        t.put("model.embed_tokens.weight", new long[]{c.vocabSize(), d});
        for (int l = 0; l < c.layers(); l++) {
            String p = "model.layers." + l + ".";
            t.put(p + "input_layernorm.weight", new long[]{d});
            t.put(p + "self_attn.q_proj.weight", new long[]{q, d});
            t.put(p + "self_attn.k_proj.weight", new long[]{kv, d});
            t.put(p + "self_attn.v_proj.weight", new long[]{kv, d});
            t.put(p + "self_attn.o_proj.weight", new long[]{d, q});
            if (c.qkvBias()) {
                t.put(p + "self_attn.q_proj.bias", new long[]{q});
                t.put(p + "self_attn.k_proj.bias", new long[]{kv});
                t.put(p + "self_attn.v_proj.bias", new long[]{kv});
            }
            if (c.outputBias()) t.put(p + "self_attn.o_proj.bias", new long[]{d});
            t.put(p + "post_attention_layernorm.weight", new long[]{d});
            t.put(p + "mlp.gate_proj.weight", new long[]{c.intermediateSize(), d});
            t.put(p + "mlp.up_proj.weight", new long[]{c.intermediateSize(), d});
            t.put(p + "mlp.down_proj.weight", new long[]{d, c.intermediateSize()});
            if (c.mlpBias()) {
                t.put(p + "mlp.gate_proj.bias", new long[]{c.intermediateSize()});
                t.put(p + "mlp.up_proj.bias", new long[]{c.intermediateSize()});
                t.put(p + "mlp.down_proj.bias", new long[]{d});
            }
        }
        t.put("model.norm.weight", new long[]{d});
        if (!c.tiedEmbeddings()) t.put("lm_head.weight", new long[]{c.vocabSize(), d});
        return t;
    }

    void write() throws IOException {
        declareInputsAndOutputs();
        String cos = g.weight("rope_cos", FloatBuffer.wrap(rope(true)), compute, options.maxLength(), c.headDim() / 2);
        String sin = g.weight("rope_sin", FloatBuffer.wrap(rope(false)), compute, options.maxLength(), c.headDim() / 2);
        String x = g.op("Gather", g.weight("embed_tokens", weights.read("model.embed_tokens.weight"), compute,
                c.vocabSize(), c.hiddenSize()), INPUT_IDS);
        if (options.analysis()) output(EMBEDDING, "Gather", new String[]{x, lastPosition()}, Map.of("axis", 1L));
        LayerControls[] controls = options.controls() ? splitControls() : null;
        for (int l = 0; l < c.layers(); l++) {
            progress.accept("layer " + (l + 1) + "/" + c.layers());
            x = layer(l, x, cos, sin, controls == null ? null : controls[l]);
        }
        if (options.analysis()) writeAnalysisOutputs(x);
        if (!options.allLogits()) {
            x = g.op("Gather", new String[]{x, lastPosition()}, Map.of("axis", 1L));
        }
        x = rmsNorm(x, "model.norm.weight");
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

    private String layer(int l, String x, String cos, String sin, LayerControls controls) throws IOException {
        String p = "model.layers." + l + ".";
        String h = rmsNorm(x, p + "input_layernorm.weight");
        String q = linear(h, p + "self_attn.q_proj", c.qkvBias());
        String k = linear(h, p + "self_attn.k_proj", c.qkvBias());
        String v = linear(h, p + "self_attn.v_proj", c.qkvBias());
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
        if (controls != null) z = steer(controls, z, v);
        if (options.analysis()) headTaps.add(atLastPosition(z));
        x = g.op("Add", x, linear(z, p + "self_attn.o_proj", c.outputBias()));
        h = rmsNorm(x, p + "post_attention_layernorm.weight");
        String gate = linear(h, p + "mlp.gate_proj", c.mlpBias());
        String up = linear(h, p + "mlp.up_proj", c.mlpBias());
        String act = g.op("Mul", g.op("Mul", gate, g.op("Sigmoid", gate)), up);
        String mlp = linear(act, p + "mlp.down_proj", c.mlpBias());
        if (options.analysis()) mlpTaps.add(atLastPosition(mlp));
        return g.op("Add", x, mlp);
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

    /**
     * Splits the control inputs into per-layer coefficients once, before the first layer:
     * z ← g·((1−u)·z + u·v_self) + b is computed as a·z + c·v_self + b with a = g·(1−u), c = g·u.
     * Heads are viewed as [kv group, head in group] so v_self broadcasts from the group's value
     * instead of being gathered per head. Identity (g 1, u 0, b 0) gives a = 1, c = 0: z exactly.
     * The coefficients are computed in fp32 and, in an fp16 graph, cast once (1 and 0 stay exact).
     */
    private LayerControls[] splitControls() throws IOException {
        int L = c.layers(), K = c.kvHeads(), G = c.heads() / c.kvHeads(), Dh = c.headDim();
        String oneMinusU = g.op("Sub", sharedOne(), ATTN_IDENTITY_MIX);
        String a = g.op("Reshape", g.op("Mul", HEAD_GAIN, oneMinusU), shared("shape_layer_coefficients", 0, L, K, G, 1));
        String cv = g.op("Reshape", g.op("Mul", HEAD_GAIN, ATTN_IDENTITY_MIX), shared("shape_layer_coefficients", 0, L, K, G, 1));
        String b = g.op("Reshape", HEAD_BIAS, shared("shape_layer_biases", 0, L, K, G, Dh));
        if (compute != DataType.FLOAT) {
            Map<String, Object> to = Map.of("to", (long) compute.getNumber());
            a = g.op("Cast", new String[]{a}, to);
            cv = g.op("Cast", new String[]{cv}, to);
            b = g.op("Cast", new String[]{b}, to);
        }
        Map<String, Object> axis1 = Map.of("axis", 1L);
        String[] as = g.node("", "Split", new String[]{a}, L, axis1);
        String[] cs = g.node("", "Split", new String[]{cv}, L, axis1);
        String[] bs = g.node("", "Split", new String[]{b}, L, axis1);
        LayerControls[] out = new LayerControls[L];
        for (int l = 0; l < L; l++) out[l] = new LayerControls(as[l], cs[l], bs[l]);
        return out;
    }

    /** Layer l's coefficients: a and c [B, 1, K, G, 1], b [B, 1, K, G, Dh]. */
    private record LayerControls(String a, String c, String b) {
    }

    /** a·z + c·v_self + b on each head's output, z and v viewed as [B, S, K, G, Dh] and [B, S, K, 1, Dh]. */
    private String steer(LayerControls controls, String attn, String v) throws IOException {
        int K = c.kvHeads(), G = c.heads() / c.kvHeads(), Dh = c.headDim();
        String z = g.op("Reshape", attn, shared("shape_grouped_heads", 0, 0, K, G, Dh));
        String vSelf = g.op("Reshape", v, shared("shape_grouped_values", 0, 0, K, 1, Dh));
        String steered = g.op("Add", g.op("Add", g.op("Mul", controls.a(), z), g.op("Mul", controls.c(), vSelf)), controls.b());
        return g.op("Reshape", steered, shared("shape_hidden", 0, 0, (long) c.heads() * Dh));
    }

    /** An int64 constant written once and shared by every layer. */
    private String shared(String name, long... values) throws IOException {
        if (sharedConstants.add(name)) g.longs(name, values);
        return name;
    }

    private String sharedOne() throws IOException {
        if (sharedConstants.add("one")) g.scalarFloat("one", 1f);
        return "one";
    }

    private String rmsNorm(String x, String weight) throws IOException {
        String w = g.weight(weight, weights.read(weight), compute, c.hiddenSize());
        Map<String, Object> attrs = Map.of("axis", -1L, "epsilon", (float) c.rmsNormEps(), "stash_type", 1L);
        return g.op("SimplifiedLayerNormalization", new String[]{x, w}, attrs);
    }

    private String linear(String x, String module, boolean bias) throws IOException {
        String wName = module + ".weight";
        FloatBuffer w = weights.readTransposed(wName);
        long out = w.remaining() / inputWidth(module);
        String y = g.op("MatMul", x, g.weight(wName, w, compute, inputWidth(module), out));
        if (!bias) return y;
        return g.op("Add", y, g.weight(module + ".bias", weights.read(module + ".bias"), compute, out));
    }

    private long inputWidth(String module) {
        if (module.endsWith("o_proj")) return (long) c.heads() * c.headDim();
        if (module.endsWith("down_proj")) return c.intermediateSize();
        return c.hiddenSize();
    }
}
