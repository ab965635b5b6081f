package io.headgate.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/** Reads and writes safetensors files byte for byte, to make broken checkpoints in tests. */
public final class SafetensorsFiles {
    private SafetensorsFiles() {
    }

    /** A tensor as stored: dtype tag, shape and raw bytes. */
    public record Raw(String dtype, long[] shape, byte[] bytes) {
    }

    public static Map<String, Raw> read(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) b.getLong();
        var header = new ObjectMapper().readTree(new String(all, 8, n, StandardCharsets.UTF_8));
        Map<String, Raw> out = new LinkedHashMap<>();
        header.fields().forEachRemaining(e -> {
            if (e.getKey().equals("__metadata__")) return;
            var m = e.getValue();
            long[] shape = new long[m.get("shape").size()];
            for (int i = 0; i < shape.length; i++) shape[i] = m.get("shape").get(i).asLong();
            int s = m.get("data_offsets").get(0).asInt(), t = m.get("data_offsets").get(1).asInt();
            byte[] bytes = new byte[t - s];
            System.arraycopy(all, 8 + n + s, bytes, 0, bytes.length);
            out.put(e.getKey(), new Raw(m.get("dtype").asText(), shape, bytes));
        });
        return out;
    }

    public static void write(Path file, Map<String, Raw> tensors) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        long offset = 0;
        for (var e : tensors.entrySet()) {
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", e.getValue().dtype());
            var shape = t.putArray("shape");
            for (long d : e.getValue().shape()) shape.add(d);
            t.putArray("data_offsets").add(offset).add(offset + e.getValue().bytes().length);
            offset += e.getValue().bytes().length;
        }
        byte[] h = json.writeValueAsBytes(header);
        int padded = (h.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(8 + padded + (int) offset).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(h);
        for (int i = h.length; i < padded; i++) out.put((byte) ' ');
        for (Raw r : tensors.values()) out.put(r.bytes());
        Files.write(file, out.array());
    }

    public static void copyDirectory(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path p : files.sorted(Comparator.naturalOrder()).toList()) {
                if (Files.isRegularFile(p)) Files.copy(p, to.resolve(p.getFileName()));
            }
        }
    }
}
