package io.headgate.bench;

import io.headgate.testing.SafetensorsFiles;
import io.headgate.testing.SafetensorsFiles.Raw;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * A Llama checkpoint with random weights, large enough that the forward pass dominates per-call
 * overhead: model dim 512, 8 layers, 8 heads, 2 kv heads, head dim 64. Written at bench time (not
 * committed); it has no end-of-text token, so streams run to their token limit. The fp16 variant
 * stores the same draws rounded to fp16 (as a real fp16 checkpoint would be), so the fp32 graph's
 * weights are exactly the fp16 graph's widened (what the GPU check's pack relies on).
 */
final class BenchCheckpoint {
    private BenchCheckpoint() {
    }

    static final int D = 512, LAYERS = 8, HEADS = 8, KV = 2, DH = 64, FFN = 1408, VOCAB = 512, MAX = 512;

    static Path write(Path dir) throws Exception {
        return write(dir, false);
    }

    static Path write(Path dir, boolean float16) throws Exception {
        if (Files.isRegularFile(dir.resolve("model.safetensors"))) return dir;
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), """
                {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": %d, "hidden_size": %d,
                 "intermediate_size": %d, "num_hidden_layers": %d, "num_attention_heads": %d, "num_key_value_heads": %d,
                 "head_dim": %d, "hidden_act": "silu", "rope_theta": 10000.0, "rms_norm_eps": 1e-5,
                 "max_position_embeddings": %d, "tie_word_embeddings": false, "torch_dtype": "%s"}
                """.formatted(VOCAB, D, FFN, LAYERS, HEADS, KV, DH, MAX, float16 ? "float16" : "float32"));
        Random random = new Random(2026);
        Map<String, Raw> t = new LinkedHashMap<>();
        t.put("model.embed_tokens.weight", gaussian(random, VOCAB, D));
        for (int l = 0; l < LAYERS; l++) {
            String p = "model.layers." + l + ".";
            t.put(p + "input_layernorm.weight", ones(D));
            t.put(p + "self_attn.q_proj.weight", gaussian(random, HEADS * DH, D));
            t.put(p + "self_attn.k_proj.weight", gaussian(random, KV * DH, D));
            t.put(p + "self_attn.v_proj.weight", gaussian(random, KV * DH, D));
            t.put(p + "self_attn.o_proj.weight", gaussian(random, D, HEADS * DH));
            t.put(p + "post_attention_layernorm.weight", ones(D));
            t.put(p + "mlp.gate_proj.weight", gaussian(random, FFN, D));
            t.put(p + "mlp.up_proj.weight", gaussian(random, FFN, D));
            t.put(p + "mlp.down_proj.weight", gaussian(random, D, FFN));
        }
        t.put("model.norm.weight", ones(D));
        t.put("lm_head.weight", gaussian(random, VOCAB, D));
        if (float16) t.replaceAll((name, raw) -> toFloat16(raw));
        SafetensorsFiles.write(dir.resolve("model.safetensors"), t);
        return dir;
    }

    private static Raw toFloat16(Raw f32) {
        ByteBuffer in = ByteBuffer.wrap(f32.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer out = ByteBuffer.allocate(f32.bytes().length / 2).order(ByteOrder.LITTLE_ENDIAN);
        while (in.hasRemaining()) out.putShort(Float.floatToFloat16(in.getFloat()));
        return new Raw("F16", f32.shape(), out.array());
    }

    private static Raw gaussian(Random random, int rows, int cols) {
        ByteBuffer b = ByteBuffer.allocate(rows * cols * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < rows * cols; i++) b.putFloat((float) (random.nextGaussian() * 0.05));
        return new Raw("F32", new long[]{rows, cols}, b.array());
    }

    private static Raw ones(int n) {
        ByteBuffer b = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) b.putFloat(1f);
        return new Raw("F32", new long[]{n}, b.array());
    }
}
