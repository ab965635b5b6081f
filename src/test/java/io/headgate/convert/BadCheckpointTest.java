package io.headgate.convert;

import io.headgate.testing.Checkpoints;
import io.headgate.testing.SafetensorsFiles;
import io.headgate.testing.SafetensorsFiles.Raw;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A bad checkpoint is refused with an error naming the tensor or field, and the bundle cache is
 * left exactly as it was: no bundle, no partial directory.
 */
class BadCheckpointTest {

    @TempDir
    Path dir;

    private Path brokenCopy() throws IOException {
        Path copy = dir.resolve("checkpoint");
        SafetensorsFiles.copyDirectory(Checkpoints.VARIANTS.resolve("qwen2-bf16"), copy);
        return copy;
    }

    private String refusal(Path checkpoint) throws IOException {
        return refusal(checkpoint, CheckpointConverter.Options.STEERABLE);
    }

    private String refusal(Path checkpoint, CheckpointConverter.Options options) throws IOException {
        Path cacheRoot = dir.resolve("cache");
        Files.createDirectories(cacheRoot);
        BundleCache cache = new BundleCache(cacheRoot, new CheckpointConverter(m -> { }));
        Exception e = assertThrows(CheckpointException.class, () -> cache.bundleFor(checkpoint, options));
        try (Stream<Path> left = Files.list(cacheRoot)) {
            assertThat(left.toList()).as("cache after a refused conversion").isEmpty();
        }
        return e.getMessage();
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        Path c = brokenCopy();
        Map<String, Raw> t = SafetensorsFiles.read(c.resolve("model.safetensors"));
        t.remove("model.layers.1.self_attn.k_proj.bias");
        SafetensorsFiles.write(c.resolve("model.safetensors"), t);
        assertThat(refusal(c)).contains("model.layers.1.self_attn.k_proj.bias").contains("missing");
    }

    @Test
    void wrongShapeIsNamedWithBothShapes() throws IOException {
        Path c = brokenCopy();
        Map<String, Raw> t = SafetensorsFiles.read(c.resolve("model.safetensors"));
        Raw q = t.get("model.layers.0.self_attn.q_proj.weight");
        t.put("model.layers.0.self_attn.q_proj.weight", new Raw(q.dtype(), new long[]{q.shape()[1], q.shape()[0]}, q.bytes()));
        SafetensorsFiles.write(c.resolve("model.safetensors"), t);
        assertThat(refusal(c)).contains("model.layers.0.self_attn.q_proj.weight").contains("[48, 96]").contains("expected [96, 48]");
    }

    @Test
    void sameSizeWrongShapeIsNamed() throws IOException {
        Path c = brokenCopy();
        Map<String, Raw> t = SafetensorsFiles.read(c.resolve("model.safetensors"));
        Raw k = t.get("model.layers.0.self_attn.k_proj.weight"); // [32, 48]
        t.put("model.layers.0.self_attn.k_proj.weight", new Raw(k.dtype(), new long[]{16, 96}, k.bytes()));
        SafetensorsFiles.write(c.resolve("model.safetensors"), t);
        assertThat(refusal(c)).contains("model.layers.0.self_attn.k_proj.weight").contains("[16, 96]").contains("[32, 48]");
    }

    @Test
    void unsupportedModelTypeIsNamed() throws IOException {
        Path c = brokenCopy();
        Path config = c.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"qwen2\"", "\"gpt2\""));
        assertThat(refusal(c)).contains("model_type").contains("gpt2");
    }

    @Test
    void invalidHeadCountIsNamed() throws IOException {
        Path c = brokenCopy();
        Path config = c.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 4"));
        assertThat(refusal(c)).contains("num_key_value_heads");
    }

    @Test
    void headDimTheAttentionKernelCannotRunIsNamed() throws IOException {
        Path c = brokenCopy();
        Path config = c.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"head_dim\": 16", "\"head_dim\": 8"));
        assertThat(refusal(c)).contains("head_dim").contains("multiple of 16");
    }

    @Test
    void corruptHeaderIsRefused() throws IOException {
        Path c = brokenCopy();
        try (RandomAccessFile f = new RandomAccessFile(c.resolve("model.safetensors").toFile(), "rw")) {
            f.seek(8);
            f.write("\"\"\"\"".getBytes(StandardCharsets.UTF_8));
        }
        assertThat(refusal(c)).contains("corrupt safetensors header").contains("model.safetensors");
    }

    @Test
    void absurdHeaderLengthIsRefused() throws IOException {
        Path c = brokenCopy();
        try (RandomAccessFile f = new RandomAccessFile(c.resolve("model.safetensors").toFile(), "rw")) {
            f.seek(0);
            f.write(new byte[]{(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0, 0, 0, 0});
        }
        assertThat(refusal(c)).contains("corrupt safetensors header").contains("header length");
    }

    @Test
    void truncatedDataIsRefused() throws IOException {
        Path c = brokenCopy();
        Path st = c.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(st);
        Files.write(st, java.util.Arrays.copyOf(all, all.length - 100));
        assertThat(refusal(c)).contains("corrupt safetensors header").contains("data_offsets");
    }

    @Test
    void aWeightBeyondFloat16IsNamedForTheFp16GraphOnly() throws IOException {
        Path c = brokenCopy();
        Map<String, Raw> t = SafetensorsFiles.read(c.resolve("model.safetensors"));
        Raw up = t.get("model.layers.1.mlp.up_proj.weight");
        assertThat(up.dtype()).isEqualTo("BF16");
        byte[] bytes = up.bytes().clone();
        short bf16 = (short) (Float.floatToRawIntBits(1e5f) >>> 16); // bf16 reaches 3e38, fp16 only 65504
        bytes[0] = (byte) bf16;
        bytes[1] = (byte) (bf16 >> 8);
        t.put("model.layers.1.mlp.up_proj.weight", new Raw(up.dtype(), up.shape(), bytes));
        SafetensorsFiles.write(c.resolve("model.safetensors"), t);
        assertThat(refusal(c, CheckpointConverter.Options.STEERABLE.withFloat16(true)))
                .contains("model.layers.1.mlp.up_proj.weight").contains("float16").contains("99840.0");
        Path fp32 = new BundleCache(dir.resolve("cache32"), new CheckpointConverter(m -> { })).bundleFor(c, CheckpointConverter.Options.STEERABLE);
        assertThat(fp32.resolve("headgate.json")).exists();
    }

    @Test
    void missingConfigIsNamed() throws IOException {
        Path c = brokenCopy();
        Files.delete(c.resolve("config.json"));
        assertThat(refusal(c)).contains("config.json");
    }
}
