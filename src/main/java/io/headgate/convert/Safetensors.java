package io.headgate.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A safetensors file: an 8-byte little-endian header length, a JSON header naming each tensor's
 * dtype, shape and byte range, then the raw data. Tensors are read on demand and widened to fp32.
 */
public final class Safetensors implements AutoCloseable {

    /** One tensor's entry in the header; offsets are relative to the start of the data section. */
    public record Entry(String name, String dtype, long[] shape, long begin, long end) {
        public long elements() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }
    }

    private static final long MAX_HEADER = 100L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, Entry> entries;

    private Safetensors(Path file, FileChannel channel, long dataStart, Map<String, Entry> entries) {
        this.file = file;
        this.channel = channel;
        this.dataStart = dataStart;
        this.entries = entries;
    }

    public static Safetensors open(Path file) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        try {
            return new Safetensors(file, channel, 0, Map.of()).parse();
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private Safetensors parse() throws IOException {
        long size = channel.size();
        if (size < 8) throw corrupt("file is shorter than its 8-byte header length");
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(len, 0);
        long headerLength = len.flip().getLong();
        if (headerLength <= 0 || headerLength > MAX_HEADER || 8 + headerLength > size) {
            throw corrupt("header length " + headerLength + " does not fit a file of " + size + " bytes");
        }
        ByteBuffer header = ByteBuffer.allocate((int) headerLength);
        readFully(header, 8);
        JsonNode root;
        try {
            root = JSON.readTree(new String(header.array(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw corrupt("header is not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (root == null || !root.isObject()) throw corrupt("header is not a JSON object");
        long dataSize = size - 8 - headerLength;
        Map<String, Entry> parsed = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (field.getKey().equals("__metadata__")) continue;
            parsed.put(field.getKey(), entry(field.getKey(), field.getValue(), dataSize));
        }
        return new Safetensors(file, channel, 8 + headerLength, Collections.unmodifiableMap(parsed));
    }

    private Entry entry(String name, JsonNode node, long dataSize) throws IOException {
        JsonNode dtype = node.get("dtype"), shape = node.get("shape"), offsets = node.get("data_offsets");
        if (dtype == null || !dtype.isTextual() || shape == null || !shape.isArray()
                || offsets == null || !offsets.isArray() || offsets.size() != 2) {
            throw corrupt("tensor '" + name + "' lacks dtype, shape or data_offsets");
        }
        long[] dims = new long[shape.size()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = shape.get(i).asLong(-1);
            if (dims[i] < 0) throw corrupt("tensor '" + name + "' has a negative or non-numeric dimension");
        }
        Entry e = new Entry(name, dtype.asText(), dims, offsets.get(0).asLong(-1), offsets.get(1).asLong(-1));
        if (e.begin < 0 || e.end < e.begin || e.end > dataSize) {
            throw corrupt("tensor '" + name + "' has data_offsets " + e.begin + ".." + e.end
                    + " outside the " + dataSize + "-byte data section");
        }
        int width = width(e.dtype);
        if (width > 0 && e.end - e.begin != e.elements() * width) {
            throw corrupt("tensor '" + name + "' has " + (e.end - e.begin) + " bytes for shape "
                    + Arrays.toString(dims) + " of " + e.dtype);
        }
        return e;
    }

    public Map<String, Entry> entries() {
        return entries;
    }

    public Path file() {
        return file;
    }

    /** Reads a tensor as fp32 into a new native-order buffer (F32, F16 and BF16 are supported). */
    public FloatBuffer readFloats(String name) throws IOException {
        Entry e = entries.get(name);
        if (e == null) throw new CheckpointException("tensor '" + name + "' is missing from " + file.getFileName());
        if (width(e.dtype) < 0) {
            throw new CheckpointException("tensor '" + name + "' has dtype " + e.dtype + "; supported: F32, F16, BF16");
        }
        long bytes = e.end - e.begin;
        if (bytes > Integer.MAX_VALUE) throw new CheckpointException("tensor '" + name + "' is larger than 2 GiB");
        ByteBuffer raw = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        readFully(raw, dataStart + e.begin);
        raw.flip();
        FloatBuffer out = ByteBuffer.allocateDirect((int) (e.elements() * 4)).order(ByteOrder.nativeOrder()).asFloatBuffer();
        switch (e.dtype) {
            case "F32" -> out.put(raw.asFloatBuffer());
            case "F16" -> {
                while (raw.hasRemaining()) out.put(Float.float16ToFloat(raw.getShort()));
            }
            case "BF16" -> {
                while (raw.hasRemaining()) out.put(Float.intBitsToFloat((raw.getShort() & 0xffff) << 16));
            }
            default -> throw new IllegalStateException(e.dtype);
        }
        return out.flip();
    }

    private static int width(String dtype) {
        return switch (dtype) {
            case "F32" -> 4;
            case "F16", "BF16" -> 2;
            default -> -1;
        };
    }

    private void readFully(ByteBuffer dst, long position) throws IOException {
        while (dst.hasRemaining()) {
            int n = channel.read(dst, position);
            if (n < 0) throw corrupt("file ends before byte " + (position + dst.remaining()));
            position += n;
        }
    }

    private CheckpointException corrupt(String why) {
        return new CheckpointException("corrupt safetensors header in " + file.getFileName() + ": " + why);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
