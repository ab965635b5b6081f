package io.headgate.convert;

import io.headgate.convert.onnx.TensorProto.DataType;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import static io.headgate.model.GraphContract.ATTN_IDENTITY_MIX;
import static io.headgate.model.GraphContract.HEAD_BIAS;
import static io.headgate.model.GraphContract.HEAD_GAIN;
import static io.headgate.model.GraphContract.INPUT_IDS;
import static io.headgate.model.GraphContract.LOGITS;
import static io.headgate.model.GraphContract.SEQLENS_K;
import static io.headgate.model.GraphContract.TOTAL_SEQUENCE_LENGTH;
import static io.headgate.model.GraphContract.pastKey;
import static io.headgate.model.GraphContract.pastValue;
import static io.headgate.model.GraphContract.presentKey;
import static io.headgate.model.GraphContract.presentValue;

/**
 * Writes a Llama-family decoder as a steerable ONNX graph, layer by layer:
 *
 * <pre>
 *   x = embed[ids]
 *   per layer l:
 *     h = rmsnorm(x)
 *     z, K_l, V_l = GroupQueryAttention(h·Wq, h·Wk, h·Wv, cache_l)   rotary inside, cache in place
 *     z ← g·((1−u)·z + u·v_self) + b                                   per head, g/u/b rows of layer l
 *     x = x + z·Wo
 *     x = x + (silu(rmsnorm(x)·Wg) ⊙ rmsnorm(x)·Wu)·Wd
 *   logits = rmsnorm(x[last])·Wlm                                    (or every position)
 * </pre>
 */
final class SteerableLlamaGraph {

    /**
     * controls: emit head_gain/head_bias/attn_identity_mix; allLogits: logits at every position;
     * concatCache: past_key [B, K, past, Dh] in, present_key [B, K, past + S, Dh] out, as a PyTorch
     * export gives (benchmarks only: the runtime uses the static in-place cache).
     */
    record Options(boolean controls, boolean allLogits, int maxLength, boolean concatCache) {
        Options {
            if (maxLength <= 0) throw new IllegalArgumentException("maxLength must be positive");
        }
    }

    private final LlamaConfig c;
    private final Options options;
    private final CheckpointWeights weights;
    private final OnnxGraphBuilder g;
    private final Consumer<String> progress;
    private final Set<String> sharedConstants = new HashSet<>();

    SteerableLlamaGraph(LlamaConfig config, Options options, CheckpointWeights weights, OnnxGraphBuilder builder,
                        Consumer<String> progress) {
        this.c = config;
        this.options = options;
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
        String cos = g.floats("rope_cos", rope(true), options.maxLength(), c.headDim() / 2);
        String sin = g.floats("rope_sin", rope(false), options.maxLength(), c.headDim() / 2);
        String x = g.op("Gather", g.weight("embed_tokens", weights.read("model.embed_tokens.weight"),
                c.vocabSize(), c.hiddenSize()), INPUT_IDS);
        for (int l = 0; l < c.layers(); l++) {
            progress.accept("layer " + (l + 1) + "/" + c.layers());
            x = layer(l, x, cos, sin);
        }
        if (!options.allLogits()) {
            x = g.op("Gather", new String[]{x, g.scalarLong("last_position", -1)}, Map.of("axis", 1L));
        }
        x = rmsNorm(x, "model.norm.weight");
        String lmHead = c.tiedEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight";
        g.nodeNamed("", "MatMul", new String[]{x, g.weight("lm_head", weights.readTransposed(lmHead), c.hiddenSize(), c.vocabSize())},
                new String[]{LOGITS}, Map.of());
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
            g.input(pastKey(l), DataType.FLOAT, "batch", c.kvHeads(), past, c.headDim());
            g.input(pastValue(l), DataType.FLOAT, "batch", c.kvHeads(), past, c.headDim());
        }
        if (options.allLogits()) g.output(LOGITS, DataType.FLOAT, "batch", "sequence", c.vocabSize());
        else g.output(LOGITS, DataType.FLOAT, "batch", c.vocabSize());
        for (int l = 0; l < c.layers(); l++) {
            g.output(presentKey(l), DataType.FLOAT, "batch", c.kvHeads(), present, c.headDim());
            g.output(presentValue(l), DataType.FLOAT, "batch", c.kvHeads(), present, c.headDim());
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

    private String layer(int l, String x, String cos, String sin) throws IOException {
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
        if (options.controls()) z = steer(l, z, v);
        x = g.op("Add", x, linear(z, p + "self_attn.o_proj", c.outputBias()));
        h = rmsNorm(x, p + "post_attention_layernorm.weight");
        String gate = linear(h, p + "mlp.gate_proj", c.mlpBias());
        String up = linear(h, p + "mlp.up_proj", c.mlpBias());
        String act = g.op("Mul", g.op("Mul", gate, g.op("Sigmoid", gate)), up);
        return g.op("Add", x, linear(act, p + "mlp.down_proj", c.mlpBias()));
    }

    /** z ← g·((1−u)·z + u·v_self) + b on each head's output, with layer l's control rows. */
    private String steer(int l, String attn, String v) throws IOException {
        int H = c.heads(), Dh = c.headDim();
        String layer = g.scalarLong("layer_" + l, l);
        String z = g.op("Reshape", attn, shared("shape_heads", 0, 0, H, Dh));
        // v_self: each head reads the value vector of its own kv group (GQA) at the same position
        String vs = g.op("Reshape", v, shared("shape_kv_heads", 0, 0, c.kvHeads(), Dh));
        long[] group = new long[H];
        for (int h = 0; h < H; h++) group[h] = h / (H / c.kvHeads());
        String vSelf = g.op("Gather", new String[]{vs, shared("kv_group_of_head", group)}, Map.of("axis", 2L));
        String u = perHead(ATTN_IDENTITY_MIX, layer, shared("axes_1_3", 1, 3));
        String gain = perHead(HEAD_GAIN, layer, shared("axes_1_3", 1, 3));
        String bias = perHead(HEAD_BIAS, layer, shared("axes_1", 1));
        String oneMinusU = g.op("Sub", sharedOne(), u);
        String mixed = g.op("Add", g.op("Mul", oneMinusU, z), g.op("Mul", u, vSelf));
        String steered = g.op("Add", g.op("Mul", gain, mixed), bias);
        return g.op("Reshape", steered, shared("shape_hidden", 0, 0, (long) H * Dh));
    }

    /** Layer l's slice of a control input, unsqueezed to broadcast over [B, S, H, Dh]. */
    private String perHead(String control, String layer, String axes) {
        String row = g.op("Gather", new String[]{control, layer}, Map.of("axis", 1L));
        return g.op("Unsqueeze", row, axes);
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
        String w = g.weight(weight, weights.read(weight), c.hiddenSize());
        Map<String, Object> attrs = Map.of("axis", -1L, "epsilon", (float) c.rmsNormEps(), "stash_type", 1L);
        return g.op("SimplifiedLayerNormalization", new String[]{x, w}, attrs);
    }

    private String linear(String x, String module, boolean bias) throws IOException {
        String wName = module + ".weight";
        FloatBuffer w = weights.readTransposed(wName);
        long out = w.remaining() / inputWidth(module);
        String y = g.op("MatMul", x, g.weight(wName, w, inputWidth(module), out));
        if (!bias) return y;
        return g.op("Add", y, g.weight(module + ".bias", weights.read(module + ".bias"), out));
    }

    private long inputWidth(String module) {
        if (module.endsWith("o_proj")) return (long) c.heads() * c.headDim();
        if (module.endsWith("down_proj")) return c.intermediateSize();
        return c.hiddenSize();
    }
}
