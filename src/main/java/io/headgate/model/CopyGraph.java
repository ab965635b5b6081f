package io.headgate.model;

import io.headgate.convert.onnx.GraphProto;
import io.headgate.convert.onnx.ModelProto;
import io.headgate.convert.onnx.NodeProto;
import io.headgate.convert.onnx.OperatorSetIdProto;
import io.headgate.convert.onnx.TensorProto;
import io.headgate.convert.onnx.TypeProto;
import io.headgate.convert.onnx.ValueInfoProto;

/**
 * An ONNX graph built in memory: {@code y_i = Identity(x_i)} for {@code n} tensors of one element type
 * and any shape. Creating a session of it on a provider checks that the provider works; run
 * through IOBinding over views of memory a session owns, it copies that memory on its device (the
 * device-resident KV cache moves and swaps slots with it, since ONNX Runtime's C API only copies
 * between devices of providers registered in the environment, which the CUDA provider is not).
 */
public final class CopyGraph {
    private CopyGraph() {
    }

    public static String input(int i) {
        return "x" + i;
    }

    public static String output(int i) {
        return "y" + i;
    }

    /** The serialized model; {@code elementType} is an ONNX TensorProto data type. */
    public static byte[] model(int n, TensorProto.DataType elementType) {
        GraphProto.Builder graph = GraphProto.newBuilder().setName("copy");
        for (int i = 0; i < n; i++) {
            graph.addInput(tensor(input(i), elementType));
            graph.addOutput(tensor(output(i), elementType));
            graph.addNode(NodeProto.newBuilder().setOpType("Identity").setName("copy_" + i).addInput(input(i)).addOutput(output(i)));
        }
        return ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName("headgate")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .setGraph(graph)
                .build()
                .toByteArray();
    }

    /** A tensor input or output with no shape: any rank is accepted. */
    private static ValueInfoProto tensor(String name, TensorProto.DataType type) {
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(type.getNumber())))
                .build();
    }
}
