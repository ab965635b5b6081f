package io.headgate.model.lm.ort;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.headgate.convert.onnx.TensorProto;
import io.headgate.model.CopyGraph;
import io.headgate.model.Execution;
import io.headgate.model.SessionFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Copies tensors on the device they live on: a session of {@link CopyGraph} ({@code y_i = Identity(x_i)})
 * on the same provider as the model, run through IOBinding with source views bound as inputs and
 * destination views as outputs, so ONNX Runtime's Identity kernel copies device to device (host
 * inputs are first copied to the device by the binding). Every call copies {@code n} tensor pairs.
 */
final class SlotCopier implements AutoCloseable {

    private final OrtCApi api;
    private final OrtSession session;
    private final MemorySegment handle, binding, runOptions;
    private final Arena names = Arena.ofShared();
    private final MemorySegment[] inputs, outputs;

    SlotCopier(OrtCApi api, Execution execution, int n, boolean float16) throws OrtException {
        this.api = api;
        try (OrtSession.SessionOptions options = SessionFactory.options(execution, 1)) {
            // no optimisation: the Identity nodes are the point
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            this.session = OrtEnvironment.getEnvironment().createSession(
                    CopyGraph.model(n, float16 ? TensorProto.DataType.FLOAT16 : TensorProto.DataType.FLOAT), options);
        }
        this.handle = JavaApiHandles.session(session);
        MemorySegment created = null;
        try {
            created = api.createIoBinding(handle);
            this.runOptions = api.createRunOptions();
        } catch (OrtException | RuntimeException e) {
            api.releaseIoBinding(created);
            session.close();
            names.close();
            throw e;
        }
        this.binding = created;
        this.inputs = new MemorySegment[n];
        this.outputs = new MemorySegment[n];
        for (int i = 0; i < n; i++) {
            inputs[i] = names.allocateFrom(CopyGraph.input(i));
            outputs[i] = names.allocateFrom(CopyGraph.output(i));
        }
    }

    /** Copies {@code from[i]} into {@code to[i]} for every i; same shapes, distinct memory. */
    void copy(MemorySegment[] from, MemorySegment[] to) throws OrtException {
        if (from.length != inputs.length || to.length != inputs.length) {
            throw new IllegalArgumentException("the copier copies " + inputs.length + " tensors at once");
        }
        try {
            for (int i = 0; i < inputs.length; i++) {
                api.bindInput(binding, inputs[i], from[i]);
                api.bindOutput(binding, outputs[i], to[i]);
            }
            api.runWithBinding(handle, runOptions, binding);
        } finally {
            api.clearBindings(binding);
        }
    }

    @Override
    public void close() throws OrtException {
        api.releaseIoBinding(binding);
        api.releaseRunOptions(runOptions);
        session.close();
        names.close();
    }
}
