package io.headgate.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The tensors of a checkpoint directory: {@code model.safetensors}, or the shards named by
 * {@code model.safetensors.index.json}. Shapes are checked against what the config implies before
 * anything is written, so a bad checkpoint fails fast with the tensor's name. Public so that head
 * discovery can read the few matrices direct logit attribution needs (o_proj, the final norm, the
 * unembedding).
 */
public final class CheckpointWeights implements AutoCloseable {

    private final List<Safetensors> files = new ArrayList<>();
    private final Map<String, Safetensors> owner = new HashMap<>();

    public CheckpointWeights(Path dir) throws IOException {
        Path single = dir.resolve("model.safetensors");
        Path index = dir.resolve("model.safetensors.index.json");
        try {
            if (Files.isRegularFile(single)) {
                add(Safetensors.open(single));
            } else if (Files.isRegularFile(index)) {
                JsonNode map = new ObjectMapper().readTree(index.toFile()).path("weight_map");
                if (!map.isObject()) throw new CheckpointException("model.safetensors.index.json has no 'weight_map'");
                TreeSet<String> shards = new TreeSet<>();
                map.elements().forEachRemaining(v -> shards.add(v.asText()));
                for (String shard : shards) add(Safetensors.open(dir.resolve(shard)));
                map.fieldNames().forEachRemaining(n -> {
                    if (!owner.containsKey(n)) throw new CheckpointException("tensor '" + n + "' is listed in the index but missing from its shard");
                });
            } else {
                throw new CheckpointException("model.safetensors (or model.safetensors.index.json) is missing in " + dir);
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private void add(Safetensors file) {
        files.add(file);
        for (String name : file.entries().keySet()) owner.put(name, file);
    }

    public boolean has(String name) {
        return owner.containsKey(name);
    }

    /** Checks that every tensor exists with its expected shape. */
    void require(LinkedHashMap<String, long[]> expected) {
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            Safetensors file = owner.get(e.getKey());
            if (file == null) throw new CheckpointException("tensor '" + e.getKey() + "' is missing from the checkpoint");
            long[] actual = file.entries().get(e.getKey()).shape();
            if (!Arrays.equals(actual, e.getValue())) {
                throw new CheckpointException("tensor '" + e.getKey() + "' has shape " + Arrays.toString(actual)
                        + ", expected " + Arrays.toString(e.getValue()) + " from config.json");
            }
        }
    }

    /** A tensor as fp32, row-major, in a new direct buffer. */
    public FloatBuffer read(String name) throws IOException {
        Safetensors file = owner.get(name);
        if (file == null) throw new CheckpointException("tensor '" + name + "' is missing from the checkpoint");
        return file.readFloats(name);
    }

    /** Reads a [rows, cols] matrix and returns it transposed, [cols, rows], as MatMul wants it. */
    FloatBuffer readTransposed(String name) throws IOException {
        FloatBuffer w = read(name);
        long[] shape = owner.get(name).entries().get(name).shape();
        int rows = (int) shape[0], cols = (int) shape[1];
        float[] src = new float[w.remaining()];
        w.get(src);
        float[] dst = new float[src.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
        }
        return FloatBuffer.wrap(dst);
    }

    @Override
    public void close() throws IOException {
        for (Safetensors f : files) f.close();
    }
}
