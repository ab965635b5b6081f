package io.headgate.convert;

import io.headgate.convert.onnx.TensorProto.DataType;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static io.headgate.model.GraphContract.ATTN_IDENTITY_MIX;
import static io.headgate.model.GraphContract.HEAD_BIAS;
import static io.headgate.model.GraphContract.HEAD_GAIN;
import static io.headgate.model.forecast.ForecastContract.HEAD_NORM_RATIO;
import static io.headgate.model.forecast.ForecastContract.PAST_OBSERVED;
import static io.headgate.model.forecast.ForecastContract.PAST_VALUES;
import static io.headgate.model.forecast.ForecastContract.QUANTILES;

/**
 * Writes a patch forecaster ({@link PatchLlamaConfig}) as a steerable ONNX graph: the Llama blocks
 * of {@link LlamaBlocks} between two new ends, the whole context recomputed on every call (no cache):
 *
 * <pre>
 *   p = [past_values | past_observed] as N patches of 2P           [B, N, 2P]
 *   x = out_proj(silu(in_proj(p))) + skip(p)                       patch_embed.*
 *   per layer: a Llama block, causal attention over the N patches, rotary over the patch index
 *   y = quantile_head(rmsnorm(x[last]))                            residual MLP, quantile_head.*
 *   quantiles = y as [B, horizon, Q]
 * </pre>
 *
 * <p>Attention is written with plain ONNX operators (MatMul, Softmax, a constant causal mask) or, for
 * comparison, with ONNX Runtime's GroupQueryAttention without a past (its CPU kernel needs a head size
 * that is a multiple of 16). An analysis graph also outputs each head's relative output norm.
 */
final class SteerablePatchGraph {

    enum AttentionKind { PLAIN, GROUP_QUERY }

    record Options(boolean controls, boolean analysis, AttentionKind attention) {
        Options {
            if (analysis && !controls) throw new IllegalArgumentException("analysis outputs need the control inputs");
        }
    }

    private final PatchLlamaConfig c;
    private final Options options;
    private final CheckpointWeights weights;
    private final OnnxGraphBuilder g;
    private final Consumer<String> progress;
    private final LlamaBlocks blocks;
    private final int patches;

    SteerablePatchGraph(PatchLlamaConfig config, Options options, CheckpointWeights weights, OnnxGraphBuilder builder,
                        Consumer<String> progress) {
        this.c = config;
        this.options = options;
        this.weights = weights;
        this.g = builder;
        this.progress = progress;
        this.blocks = new LlamaBlocks(config.blocks(), weights, builder, io.headgate.convert.onnx.TensorProto.DataType.FLOAT);
        this.patches = config.patches();
    }

    /** The tensors this config needs, with their shapes ([out, in] for linear layers). */
    static LinkedHashMap<String, long[]> expectedTensors(PatchLlamaConfig c) {
        LinkedHashMap<String, long[]> t = new LinkedHashMap<>();
        residualBlock(t, "patch_embed", 2L * c.patchLength(), c.patchEmbeddingHiddenSize(), c.hiddenSize());
        LlamaBlocks.expectedTensors(c.blocks(), t);
        t.put("model.norm.weight", new long[]{c.hiddenSize()});
        residualBlock(t, "quantile_head", c.hiddenSize(), c.quantileHeadHiddenSize(), (long) c.horizonLength() * c.quantiles().size());
        return t;
    }

    private static void residualBlock(LinkedHashMap<String, long[]> t, String name, long in, long hidden, long out) {
        t.put(name + ".in_proj.weight", new long[]{hidden, in});
        t.put(name + ".in_proj.bias", new long[]{hidden});
        t.put(name + ".out_proj.weight", new long[]{out, hidden});
        t.put(name + ".out_proj.bias", new long[]{out});
        t.put(name + ".skip.weight", new long[]{out, in});
        t.put(name + ".skip.bias", new long[]{out});
    }

    void write() throws IOException {
        declareInputsAndOutputs();
        int P = c.patchLength();
        String values = g.op("Reshape", PAST_VALUES, blocks.shared("shape_patches", 0, patches, P));
        String observed = g.op("Reshape", PAST_OBSERVED, blocks.shared("shape_patches", 0, patches, P));
        String x = residualBlock(g.op("Concat", new String[]{values, observed}, Map.of("axis", 2L)), "patch_embed", 2L * P);
        LlamaBlocks.Attention attention = options.attention() == AttentionKind.PLAIN ? plainAttention() : groupQueryAttention();
        LlamaBlocks.LayerControls[] controls = options.controls() ? blocks.splitControls() : null;
        String patchWeights = options.analysis() ? g.op("ReduceMax", new String[]{observed}, Map.of("axes", new long[]{2}, "keepdims", 1L)) : null;
        List<String> ratios = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            progress.accept("layer " + (l + 1) + "/" + c.layers());
            LlamaBlocks.Block block = blocks.block(l, x, attention, controls == null ? null : controls[l]);
            if (options.analysis()) ratios.add(headNormRatio(l, x, block.heads(), patchWeights));
            x = block.residual();
        }
        String last = g.op("Gather", new String[]{x, lastPosition()}, Map.of("axis", 1L));
        String y = residualBlock(blocks.rmsNorm(last, "model.norm.weight"), "quantile_head", c.hiddenSize());
        g.nodeNamed("", "Reshape", new String[]{y, blocks.shared("shape_quantiles", 0, c.horizonLength(), c.quantiles().size())},
                new String[]{QUANTILES}, Map.of());
        if (options.analysis()) {
            g.nodeNamed("", "Concat", ratios.toArray(String[]::new), new String[]{HEAD_NORM_RATIO}, Map.of("axis", 1L));
        }
    }

    private void declareInputsAndOutputs() {
        g.input(PAST_VALUES, DataType.FLOAT, "batch", c.contextLength());
        g.input(PAST_OBSERVED, DataType.FLOAT, "batch", c.contextLength());
        if (options.controls()) {
            g.input(HEAD_GAIN, DataType.FLOAT, "batch", c.layers(), c.heads());
            g.input(HEAD_BIAS, DataType.FLOAT, "batch", c.layers(), c.heads(), c.headDim());
            g.input(ATTN_IDENTITY_MIX, DataType.FLOAT, "batch", c.layers(), c.heads());
        }
        g.output(QUANTILES, DataType.FLOAT, "batch", c.horizonLength(), c.quantiles().size());
        if (options.analysis()) g.output(HEAD_NORM_RATIO, DataType.FLOAT, "batch", c.layers(), c.heads());
    }

    /** out_proj(silu(in_proj(x))) + skip(x), each with its bias. */
    private String residualBlock(String x, String name, long inputWidth) throws IOException {
        String h = blocks.linear(x, name + ".in_proj", true, inputWidth);
        h = g.op("Mul", h, g.op("Sigmoid", h));
        String out = blocks.linear(h, name + ".out_proj", true, hiddenWidth(name));
        return g.op("Add", out, blocks.linear(x, name + ".skip", true, inputWidth));
    }

    private long hiddenWidth(String name) {
        return name.equals("patch_embed") ? c.patchEmbeddingHiddenSize() : c.quantileHeadHiddenSize();
    }

    private String lastPosition() throws IOException {
        return blocks.sharedScalar("last_position", -1);
    }

    /**
     * softmax(rope(q)·rope(k)ᵀ/√Dh + causal mask)·v with heads viewed as [kv group K, head in group G]:
     * q [B, K, G, N, Dh] against k and v [B, K, 1, N, Dh], so grouped keys broadcast instead of being
     * repeated. Rotary is rotate-half style: x·cos + (x·R)·sin with R the signed half swap.
     */
    private LlamaBlocks.Attention plainAttention() throws IOException {
        int K = c.kvHeads(), G = c.heads() / c.kvHeads(), Dh = c.headDim(), N = patches;
        double[] inv = c.ropeInverseFrequencies();
        float[] cos = new float[N * Dh], sin = new float[N * Dh];
        for (int p = 0; p < N; p++) {
            for (int i = 0; i < Dh; i++) {
                double angle = p * inv[i % (Dh / 2)];
                cos[p * Dh + i] = (float) Math.cos(angle);
                sin[p * Dh + i] = (float) Math.sin(angle);
            }
        }
        float[] rotate = new float[Dh * Dh]; // (x·R)[i] = −x[i + Dh/2] for i < Dh/2, x[i − Dh/2] after
        for (int i = 0; i < Dh / 2; i++) {
            rotate[(i + Dh / 2) * Dh + i] = -1f;
            rotate[i * Dh + i + Dh / 2] = 1f;
        }
        float[] mask = new float[N * N];
        for (int i = 0; i < N; i++) {
            for (int j = i + 1; j < N; j++) mask[i * N + j] = Float.NEGATIVE_INFINITY;
        }
        String cosName = g.floats("rope_cos", cos, N, Dh), sinName = g.floats("rope_sin", sin, N, Dh);
        String rotateName = g.floats("rope_rotate_half", rotate, Dh, Dh);
        String maskName = g.floats("causal_mask", mask, N, N);
        String scale = g.scalarFloat("attention_scale", (float) (1.0 / Math.sqrt(Dh)));
        long[] toHeads = {0, 2, 3, 1, 4};
        return (l, q, k, v) -> {
            String qh = g.op("Transpose", new String[]{g.op("Reshape", q, blocks.shared("shape_query_heads", 0, 0, K, G, Dh))}, Map.of("perm", toHeads));
            String kh = g.op("Transpose", new String[]{g.op("Reshape", k, blocks.shared("shape_kv_heads", 0, 0, K, 1, Dh))}, Map.of("perm", toHeads));
            String vh = g.op("Transpose", new String[]{g.op("Reshape", v, blocks.shared("shape_kv_heads", 0, 0, K, 1, Dh))}, Map.of("perm", toHeads));
            qh = g.op("Add", g.op("Mul", qh, cosName), g.op("Mul", g.op("MatMul", qh, rotateName), sinName));
            kh = g.op("Add", g.op("Mul", kh, cosName), g.op("Mul", g.op("MatMul", kh, rotateName), sinName));
            String keysT = g.op("Transpose", new String[]{kh}, Map.of("perm", new long[]{0, 1, 2, 4, 3}));
            String scores = g.op("Add", g.op("Mul", g.op("MatMul", qh, keysT), scale), maskName);
            String z = g.op("MatMul", g.op("Softmax", new String[]{scores}, Map.of("axis", -1L)), vh);
            z = g.op("Transpose", new String[]{z}, Map.of("perm", new long[]{0, 3, 1, 2, 4}));
            return g.op("Reshape", z, blocks.shared("shape_hidden", 0, 0, (long) c.heads() * Dh));
        };
    }

    /** GroupQueryAttention over the N patches as one prompt: no past, every row N long, rotary inside. */
    private LlamaBlocks.Attention groupQueryAttention() throws IOException {
        if (c.headDim() % 16 != 0) {
            throw new CheckpointException("config.json field 'head_dim' is " + c.headDim()
                    + "; ONNX Runtime's GroupQueryAttention on CPU needs a multiple of 16");
        }
        int N = patches, half = c.headDim() / 2;
        double[] inv = c.ropeInverseFrequencies();
        float[] cos = new float[N * half], sin = new float[N * half];
        for (int p = 0; p < N; p++) {
            for (int i = 0; i < half; i++) {
                cos[p * half + i] = (float) Math.cos(p * inv[i]);
                sin[p * half + i] = (float) Math.sin(p * inv[i]);
            }
        }
        String cosName = g.floats("rope_cos", cos, N, half), sinName = g.floats("rope_sin", sin, N, half);
        long int32 = DataType.INT32.getNumber();
        String batch = g.op("Slice", g.op("Shape", PAST_VALUES), blocks.shared("zero", 0), blocks.shared("one_index", 1));
        String seqlens = g.op("Expand", g.op("Cast", new String[]{blocks.shared("last_patch", N - 1)}, Map.of("to", int32)), batch);
        String total = g.op("Cast", new String[]{blocks.sharedScalar("patches", N)}, Map.of("to", int32));
        return (l, q, k, v) -> {
            Map<String, Object> attrs = new LinkedHashMap<>();
            attrs.put("num_heads", (long) c.heads());
            attrs.put("kv_num_heads", (long) c.kvHeads());
            attrs.put("do_rotary", 1L);
            attrs.put("rotary_interleaved", 0L);
            String z = "attn_" + l;
            g.nodeNamed(OnnxGraphBuilder.MS_DOMAIN, "GroupQueryAttention",
                    new String[]{q, k, v, "", "", seqlens, total, cosName, sinName},
                    new String[]{z, "present_key_" + l, "present_value_" + l}, attrs);
            return z;
        };
    }

    /**
     * Layer l's [B, 1, H]: ‖W_O^h z_h‖ / ‖x‖ per patch (x the residual entering the layer), averaged
     * over the patches with an observed value ({@code patchWeights} [B, N, 1], 1 or 0).
     */
    private String headNormRatio(int l, String x, String heads, String patchWeights) throws IOException {
        int H = c.heads(), Dh = c.headDim();
        String z = g.op("Reshape", heads, blocks.shared("shape_heads_as_rows", 0, 0, H, 1, Dh));
        // o_proj's initializer [H·Dh, D] (written by the block) viewed as one [Dh, D] matrix per head
        String wo = g.op("Reshape", "model.layers." + l + ".self_attn.o_proj.weight", blocks.shared("shape_output_per_head", H, Dh, c.hiddenSize()));
        String contribution = g.op("ReduceL2", new String[]{g.op("MatMul", z, wo)}, Map.of("axes", new long[]{-1}, "keepdims", 0L));
        contribution = g.op("Reshape", contribution, blocks.shared("shape_patch_heads", 0, 0, H));
        String residual = g.op("ReduceL2", new String[]{x}, Map.of("axes", new long[]{-1}, "keepdims", 1L));
        String ratio = g.op("Mul", g.op("Div", contribution, residual), patchWeights);
        String axis1 = blocks.shared("axis_patches", 1);
        String sum = g.op("ReduceSum", new String[]{ratio, axis1}, Map.of("keepdims", 1L));
        String count = g.op("ReduceSum", new String[]{patchWeights, axis1}, Map.of("keepdims", 1L));
        return g.op("Div", sum, count);
    }
}
