package io.headgate.convert;

import com.google.protobuf.ByteString;
import io.headgate.convert.onnx.AttributeProto;
import io.headgate.convert.onnx.GraphProto;
import io.headgate.convert.onnx.ModelProto;
import io.headgate.convert.onnx.NodeProto;
import io.headgate.convert.onnx.OperatorSetIdProto;
import io.headgate.convert.onnx.StringStringEntryProto;
import io.headgate.convert.onnx.TensorProto;
import io.headgate.convert.onnx.TensorShapeProto;
import io.headgate.convert.onnx.TypeProto;
import io.headgate.convert.onnx.ValueInfoProto;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * Builds an ONNX model node by node. Large initializers go to one external data file beside the
 * graph, so checkpoints past protobuf's 2 GiB limit convert, and the graph file stays small.
 */
final class OnnxGraphBuilder implements AutoCloseable {

    static final int OPSET = 17;
    static final String MS_DOMAIN = "com.microsoft";
    private static final int INLINE_LIMIT = 1024;
    private static final int ALIGNMENT = 64;

    private final GraphProto.Builder graph = GraphProto.newBuilder();
    private final String dataFileName;
    private final FileChannel data;
    private long dataOffset;
    private int counter;

    OnnxGraphBuilder(String name, Path dataFile) throws IOException {
        graph.setName(name);
        this.dataFileName = dataFile.getFileName().toString();
        this.data = FileChannel.open(dataFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }

    /** Declares a graph input; each dimension is a number or a symbolic name. */
    void input(String name, TensorProto.DataType type, Object... dims) {
        graph.addInput(valueInfo(name, type, dims));
    }

    void output(String name, TensorProto.DataType type, Object... dims) {
        graph.addOutput(valueInfo(name, type, dims));
    }

    private static ValueInfoProto valueInfo(String name, TensorProto.DataType type, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            TensorShapeProto.Dimension.Builder dim = TensorShapeProto.Dimension.newBuilder();
            if (d instanceof Number n) dim.setDimValue(n.longValue());
            else dim.setDimParam(d.toString());
            shape.addDim(dim);
        }
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(
                        TypeProto.Tensor.newBuilder().setElemType(type.getNumber()).setShape(shape)))
                .build();
    }

    /** A float initializer; the buffer is read from its position to its limit. */
    String weight(String name, FloatBuffer values, long... dims) throws IOException {
        return weight(name, values, TensorProto.DataType.FLOAT, dims);
    }

    /**
     * A FLOAT or FLOAT16 initializer from fp32 values. Narrowing rounds to nearest even; a finite
     * value beyond fp16's range would become infinite, so it is refused with the tensor's name.
     */
    String weight(String name, FloatBuffer values, TensorProto.DataType type, long... dims) throws IOException {
        FloatBuffer v = values.duplicate();
        ByteBuffer bytes;
        switch (type) {
            case FLOAT -> {
                bytes = ByteBuffer.allocate(v.remaining() * 4).order(ByteOrder.LITTLE_ENDIAN);
                bytes.asFloatBuffer().put(v);
            }
            case FLOAT16 -> {
                bytes = ByteBuffer.allocate(v.remaining() * 2).order(ByteOrder.LITTLE_ENDIAN);
                while (v.hasRemaining()) {
                    float f = v.get();
                    short h = Float.floatToFloat16(f);
                    if (Float.isFinite(f) && Float.isInfinite(Float.float16ToFloat(h))) {
                        throw new CheckpointException("tensor '" + name + "' holds " + f + ", beyond float16's range (65504); convert it to float32");
                    }
                    bytes.putShort(h);
                }
                bytes.flip();
            }
            default -> throw new IllegalArgumentException("weights are FLOAT or FLOAT16, not " + type);
        }
        return initializer(name, type, bytes, dims);
    }

    String floats(String name, float[] values, long... dims) throws IOException {
        return weight(name, FloatBuffer.wrap(values), dims);
    }

    String longs(String name, long... values) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) bytes.putLong(v);
        return initializer(name, TensorProto.DataType.INT64, bytes.flip(), values.length);
    }

    String scalarLong(String name, long value) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value);
        return initializer(name, TensorProto.DataType.INT64, bytes.flip());
    }

    String scalarFloat(String name, float value) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(value);
        return initializer(name, TensorProto.DataType.FLOAT, bytes.flip());
    }

    private String initializer(String name, TensorProto.DataType type, ByteBuffer bytes, long... dims) throws IOException {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type.getNumber());
        for (long d : dims) t.addDims(d);
        int length = bytes.remaining();
        if (length < INLINE_LIMIT) {
            t.setRawData(ByteString.copyFrom(bytes));
        } else {
            long offset = (dataOffset + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
            long position = offset;
            while (bytes.hasRemaining()) position += data.write(bytes, position);
            dataOffset = position;
            t.setDataLocation(TensorProto.DataLocation.EXTERNAL)
                    .addExternalData(entry("location", dataFileName))
                    .addExternalData(entry("offset", Long.toString(offset)))
                    .addExternalData(entry("length", Integer.toString(length)));
        }
        graph.addInitializer(t);
        return name;
    }

    private static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }

    /** Adds a node in the default domain; returns its first output's name. */
    String op(String opType, String[] inputs, Map<String, Object> attributes) {
        return node("", opType, inputs, 1, attributes)[0];
    }

    String op(String opType, String... inputs) {
        return op(opType, inputs, Map.of());
    }

    /** Adds a node with {@code outputs} fresh output names; attributes are Long, Float or long[]. */
    String[] node(String domain, String opType, String[] inputs, int outputs, Map<String, Object> attributes) {
        String[] names = new String[outputs];
        for (int i = 0; i < outputs; i++) names[i] = opType.toLowerCase() + "_" + counter + (outputs > 1 ? "_" + i : "");
        nodeNamed(domain, opType, inputs, names, attributes);
        return names;
    }

    void nodeNamed(String domain, String opType, String[] inputs, String[] outputs, Map<String, Object> attributes) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(opType).setDomain(domain).setName(opType + "_" + counter++);
        for (String i : inputs) n.addInput(i);
        for (String o : outputs) n.addOutput(o);
        attributes.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(a -> n.addAttribute(attribute(a.getKey(), a.getValue())));
        graph.addNode(n);
    }

    private static AttributeProto attribute(String name, Object value) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name);
        switch (value) {
            case Long l -> a.setType(AttributeProto.AttributeType.INT).setI(l);
            case Integer i -> a.setType(AttributeProto.AttributeType.INT).setI(i);
            case Float f -> a.setType(AttributeProto.AttributeType.FLOAT).setF(f);
            case Double d -> a.setType(AttributeProto.AttributeType.FLOAT).setF(d.floatValue());
            case long[] ls -> {
                a.setType(AttributeProto.AttributeType.INTS);
                for (long l : ls) a.addInts(l);
            }
            default -> throw new IllegalArgumentException("attribute " + name + ": " + value.getClass());
        }
        return a.build();
    }

    /** Writes the model; the external data file is already complete. */
    void write(Path graphFile, String producerVersion, Map<String, String> metadata) throws IOException {
        data.force(true);
        ModelProto.Builder model = ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName("headgate")
                .setProducerVersion(producerVersion)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(MS_DOMAIN).setVersion(1))
                .setGraph(graph);
        metadata.forEach((k, v) -> model.addMetadataProps(entry(k, v)));
        try (OutputStream out = Files.newOutputStream(graphFile, StandardOpenOption.CREATE_NEW)) {
            model.build().writeTo(out);
        }
    }

    @Override
    public void close() throws IOException {
        data.close();
    }
}
