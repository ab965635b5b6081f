package io.headgate.convert;

import io.headgate.convert.onnx.TensorProto.DataType;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import static io.headgate.model.GraphContract.ATTN_IDENTITY_MIX;
import static io.headgate.model.GraphContract.HEAD_BIAS;
import static io.headgate.model.GraphContract.HEAD_GAIN;

/**
 * Writes Llama decoder blocks (Hugging Face tensor names under {@code model.layers.l.}) into a graph,
 * with the head controls on each head's output before o_proj. How attention itself is computed is
 * the caller's: the language model uses ONNX Runtime's GroupQueryAttention over its KV cache, the
 * patch forecaster plain causal attention over the whole context.
 *
 * <pre>
 *   h = rmsnorm(x)
 *   z = attention(h·Wq, h·Wk, h·Wv)                       [B, S, H·Dh]
 *   z ← g·((1−u)·z + u·v_self) + b                         per head, as a·z + c·v_self + b
 *   x = x + z·Wo
 *   x = x + (silu(rmsnorm(x)·Wg) ⊙ rmsnorm(x)·Wu)·Wd
 * </pre>
 */
final class LlamaBlocks {

    /** Computes attention for one layer from the projected q, k, v ([B, S, H·Dh], [B, S, K·Dh] twice). */
    @FunctionalInterface
    interface Attention {
        String write(int layer, String q, String k, String v) throws IOException;
    }

    /** The block's new residual, and the terms analysis graphs tap: each head's steered z, the MLP output. */
    record Block(String residual, String heads, String mlp) {
    }

    /** Layer l's coefficients: a and c [B, 1, K, G, 1], b [B, 1, K, G, Dh]. */
    record LayerControls(String a, String c, String b) {
    }

    private final BlockShape s;
    private final CheckpointWeights weights;
    private final OnnxGraphBuilder g;
    /** The element type of weights and activations: fp32, or fp16 for a GPU graph. */
    private final DataType compute;
    private final Set<String> sharedConstants = new HashSet<>();

    LlamaBlocks(BlockShape shape, CheckpointWeights weights, OnnxGraphBuilder builder, DataType compute) {
        this.s = shape;
        this.weights = weights;
        this.g = builder;
        this.compute = compute;
    }

    /** The tensors of every block, with their Hugging Face shapes ([out, in] for linear layers). */
    static void expectedTensors(BlockShape c, LinkedHashMap<String, long[]> t) {
        long d = c.hiddenSize(), q = (long) c.heads() * c.headDim(), kv = (long) c.kvHeads() * c.headDim();
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
    }

    /** Layer l; {@code controls} null writes the plain block. */
    Block block(int l, String x, Attention attention, LayerControls controls) throws IOException {
        String p = "model.layers." + l + ".";
        String h = rmsNorm(x, p + "input_layernorm.weight");
        String q = linear(h, p + "self_attn.q_proj", s.qkvBias());
        String k = linear(h, p + "self_attn.k_proj", s.qkvBias());
        String v = linear(h, p + "self_attn.v_proj", s.qkvBias());
        String z = attention.write(l, q, k, v);
        if (controls != null) z = steer(controls, z, v);
        x = g.op("Add", x, linear(z, p + "self_attn.o_proj", s.outputBias()));
        h = rmsNorm(x, p + "post_attention_layernorm.weight");
        String gate = linear(h, p + "mlp.gate_proj", s.mlpBias());
        String up = linear(h, p + "mlp.up_proj", s.mlpBias());
        String act = g.op("Mul", g.op("Mul", gate, g.op("Sigmoid", gate)), up);
        String mlp = linear(act, p + "mlp.down_proj", s.mlpBias());
        return new Block(g.op("Add", x, mlp), z, mlp);
    }

    /**
     * Splits the control inputs into per-layer coefficients once, before the first layer:
     * z ← g·((1−u)·z + u·v_self) + b is computed as a·z + c·v_self + b with a = g·(1−u), c = g·u.
     * Heads are viewed as [kv group, head in group] so v_self broadcasts from the group's value
     * instead of being gathered per head. Identity (g 1, u 0, b 0) gives a = 1, c = 0: z exactly.
     * The coefficients are computed in fp32 and, in an fp16 graph, cast once (1 and 0 stay exact).
     */
    LayerControls[] splitControls() throws IOException {
        int L = s.layers(), K = s.kvHeads(), G = s.group(), Dh = s.headDim();
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

    /** a·z + c·v_self + b on each head's output, z and v viewed as [B, S, K, G, Dh] and [B, S, K, 1, Dh]. */
    private String steer(LayerControls controls, String attn, String v) throws IOException {
        int K = s.kvHeads(), G = s.group(), Dh = s.headDim();
        String z = g.op("Reshape", attn, shared("shape_grouped_heads", 0, 0, K, G, Dh));
        String vSelf = g.op("Reshape", v, shared("shape_grouped_values", 0, 0, K, 1, Dh));
        String steered = g.op("Add", g.op("Add", g.op("Mul", controls.a(), z), g.op("Mul", controls.c(), vSelf)), controls.b());
        return g.op("Reshape", steered, shared("shape_hidden", 0, 0, (long) s.heads() * Dh));
    }

    /** An int64 constant written once and shared by every layer. */
    String shared(String name, long... values) throws IOException {
        if (sharedConstants.add(name)) g.longs(name, values);
        return name;
    }

    /** An int64 scalar written once. */
    String sharedScalar(String name, long value) throws IOException {
        if (sharedConstants.add(name)) g.scalarLong(name, value);
        return name;
    }

    String sharedOne() throws IOException {
        if (sharedConstants.add("one")) g.scalarFloat("one", 1f);
        return "one";
    }

    String rmsNorm(String x, String weight) throws IOException {
        String w = g.weight(weight, weights.read(weight), compute, s.hiddenSize());
        Map<String, Object> attrs = Map.of("axis", -1L, "epsilon", (float) s.rmsNormEps(), "stash_type", 1L);
        return g.op("SimplifiedLayerNormalization", new String[]{x, w}, attrs);
    }

    /** x·Wᵀ (+ bias) for the module's [out, in] weight; the initializer is named after the tensor. */
    String linear(String x, String module, boolean bias) throws IOException {
        return linear(x, module, bias, inputWidth(module));
    }

    String linear(String x, String module, boolean bias, long inputWidth) throws IOException {
        String wName = module + ".weight";
        FloatBuffer w = weights.readTransposed(wName);
        long out = w.remaining() / inputWidth;
        String y = g.op("MatMul", x, g.weight(wName, w, compute, inputWidth, out));
        if (!bias) return y;
        return g.op("Add", y, g.weight(module + ".bias", weights.read(module + ".bias"), compute, out));
    }

    private long inputWidth(String module) {
        if (module.endsWith("o_proj")) return (long) s.heads() * s.headDim();
        if (module.endsWith("down_proj")) return s.intermediateSize();
        return s.hiddenSize();
    }
}
