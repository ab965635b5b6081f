package io.headgate.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.headgate.convert.CheckpointConverter;
import io.headgate.convert.onnx.ModelProto;
import io.headgate.convert.onnx.StringStringEntryProto;
import io.headgate.convert.onnx.TensorProto;
import io.headgate.model.BundleManifest;
import io.headgate.model.CopyGraph;
import io.headgate.testing.Checkpoints;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Prepares what the GPU check ({@code bench/gpu/check}) needs on a machine with no JDK: Headgate's
 * converter turns parens-lm and a larger random Llama (the benchmark checkpoint, stored in fp16) into
 * fp32 and fp16 steerable bundles, packed under 64 MiB.
 *
 * <p>The fp16 bundles travel whole. An fp32 bundle's weights are mostly the fp16 ones widened (exactly,
 * when the checkpoint is fp16), so its data file travels as a recipe: per tensor, "widen this range of
 * the fp16 data file" where that reproduces the fp32 bytes exactly, else the bytes themselves (the
 * rotary tables; all of parens-lm's fp32 weights), with the file's SHA-256, which the check verifies
 * after rebuilding it. Also packed: per model the copy-only graph ({@link CopyGraph}, one Identity per
 * cache tensor) that measures what moving the KV cache through run() costs.
 *
 * <p>{@code bench/gpu/prepare [PACK_DIR]} (default target/gpu-bench/pack).
 */
public final class GpuBenchPrepare {
    private GpuBenchPrepare() {
    }

    /** What may travel with the working tree (about 5 MiB) under the 64 MiB a device call carries. */
    static final long PACK_LIMIT = 56L << 20;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public static void main(String[] args) throws Exception {
        Path pack = Path.of(args.length > 0 ? args[0] : "target/gpu-bench/pack");
        Path work = Path.of("target", "gpu-bench", "work");
        deleteRecursively(pack);
        deleteRecursively(work);
        Files.createDirectories(pack);
        Files.createDirectories(work);
        Path benchCheckpoint = BenchCheckpoint.write(work.resolve("bench-llama-checkpoint"), true);
        ObjectNode index = JSON.createObjectNode();
        index.put("converter", CheckpointConverter.VERSION);
        ArrayNode models = index.putArray("models");
        models.add(packModel("parens-lm", Checkpoints.PARENS_LM, work, pack));
        models.add(packModel("bench-llama", benchCheckpoint, work, pack));
        long bytes;
        try (Stream<Path> files = Files.walk(pack)) {
            bytes = files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
        index.put("bytes", bytes);
        JSON.writeValue(pack.resolve("pack.json").toFile(), index);
        System.err.printf("gpu-bench: packed %s: %.1f MiB%n", pack, bytes / 1048576.0);
        if (bytes > PACK_LIMIT) throw new IllegalStateException("the pack is " + bytes + " bytes, over " + PACK_LIMIT);
    }

    private static ObjectNode packModel(String name, Path checkpoint, Path work, Path pack) throws Exception {
        CheckpointConverter converter = new CheckpointConverter(m -> { });
        Path fp32 = work.resolve(name + "-fp32"), fp16 = work.resolve(name + "-fp16");
        BundleManifest manifest = converter.convert(checkpoint, fp32, CheckpointConverter.Options.STEERABLE);
        converter.convert(checkpoint, fp16, CheckpointConverter.Options.STEERABLE.withFloat16(true));

        Path out = pack.resolve(name);
        Path out16 = Files.createDirectories(out.resolve("fp16")), out32 = Files.createDirectories(out.resolve("fp32"));
        for (String f : new String[]{BundleManifest.FILE, CheckpointConverter.GRAPH_FILE, CheckpointConverter.DATA_FILE}) {
            Files.copy(fp16.resolve(f), out16.resolve(f));
        }
        Files.copy(fp32.resolve(BundleManifest.FILE), out32.resolve(BundleManifest.FILE));
        Files.copy(fp32.resolve(CheckpointConverter.GRAPH_FILE), out32.resolve(CheckpointConverter.GRAPH_FILE));
        ObjectNode recipe = recipe(fp32, fp16, out32.resolve("extra.bin"));
        JSON.writeValue(out32.resolve("rebuild.json").toFile(), recipe);
        Files.write(out.resolve("copy-fp16.onnx"), CopyGraph.model(2 * manifest.dimensions().layers(), TensorProto.DataType.FLOAT16));

        ObjectNode m = JSON.createObjectNode();
        m.put("name", name);
        var d = manifest.dimensions();
        m.put("layers", d.layers()).put("heads", d.heads()).put("kv_heads", d.kvHeads()).put("head_dim", d.headDim())
                .put("model_dim", d.modelDim()).put("vocab_size", d.vocabSize()).put("max_length", manifest.maxLength());
        m.put("fp16_data_sha256", sha256(Files.readAllBytes(fp16.resolve(CheckpointConverter.DATA_FILE))));
        m.put("fp32_widened_tensors", recipe.get("widened").asInt()).put("fp32_extra_bytes", recipe.get("extra_bytes").asLong());
        return m;
    }

    /** How to rebuild the fp32 bundle's data file from the fp16 one and the bytes that cannot be derived. */
    private static ObjectNode recipe(Path fp32, Path fp16, Path extraFile) throws Exception {
        byte[] data32 = Files.readAllBytes(fp32.resolve(CheckpointConverter.DATA_FILE));
        byte[] data16 = Files.readAllBytes(fp16.resolve(CheckpointConverter.DATA_FILE));
        Map<String, long[]> ranges16 = external(fp16.resolve(CheckpointConverter.GRAPH_FILE));
        ModelProto model32 = ModelProto.parseFrom(Files.readAllBytes(fp32.resolve(CheckpointConverter.GRAPH_FILE)));
        ObjectNode recipe = JSON.createObjectNode();
        recipe.put("file", CheckpointConverter.DATA_FILE).put("length", data32.length).put("sha256", sha256(data32));
        ArrayNode tensors = recipe.putArray("tensors");
        ByteArrayOutputStream extra = new ByteArrayOutputStream();
        int widened = 0;
        for (TensorProto t : model32.getGraph().getInitializerList()) {
            long[] r32 = range(t);
            if (r32 == null) continue; // inline in model.onnx
            ObjectNode e = tensors.addObject().put("name", t.getName()).put("offset", r32[0]).put("length", r32[1]);
            long[] r16 = ranges16.get(t.getName());
            if (t.getDataType() == TensorProto.DataType.FLOAT_VALUE && r16 != null && r16[1] * 2 == r32[1]
                    && widensTo(data16, r16, data32, r32)) {
                e.put("from", "fp16").put("source_offset", r16[0]);
                widened++;
            } else {
                e.put("from", "extra").put("source_offset", extra.size());
                extra.write(data32, Math.toIntExact(r32[0]), Math.toIntExact(r32[1]));
            }
        }
        Files.write(extraFile, extra.toByteArray());
        recipe.put("widened", widened).put("extra_bytes", extra.size());
        return recipe;
    }

    private static boolean widensTo(byte[] data16, long[] r16, byte[] data32, long[] r32) {
        ByteBuffer half = ByteBuffer.wrap(data16, Math.toIntExact(r16[0]), Math.toIntExact(r16[1])).slice().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer full = ByteBuffer.wrap(data32, Math.toIntExact(r32[0]), Math.toIntExact(r32[1])).slice().order(ByteOrder.LITTLE_ENDIAN);
        while (half.hasRemaining()) {
            if (Float.floatToRawIntBits(Float.float16ToFloat(half.getShort())) != full.getInt()) return false;
        }
        return true;
    }

    private static Map<String, long[]> external(Path graph) throws IOException {
        Map<String, long[]> ranges = new LinkedHashMap<>();
        for (TensorProto t : ModelProto.parseFrom(Files.readAllBytes(graph)).getGraph().getInitializerList()) {
            long[] r = range(t);
            if (r != null) ranges.put(t.getName(), r);
        }
        return ranges;
    }

    /** {offset, length} in the external data file, or null for an inline initializer. */
    private static long[] range(TensorProto t) {
        if (t.getDataLocation() != TensorProto.DataLocation.EXTERNAL) return null;
        long offset = 0, length = -1;
        for (StringStringEntryProto e : t.getExternalDataList()) {
            if (e.getKey().equals("offset")) offset = Long.parseLong(e.getValue());
            if (e.getKey().equals("length")) length = Long.parseLong(e.getValue());
        }
        return new long[]{offset, length};
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
