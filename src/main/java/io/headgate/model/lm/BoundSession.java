package io.headgate.model.lm;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.headgate.model.Execution;

import java.lang.reflect.InvocationTargetException;
import java.util.Map;

/**
 * A causal-LM session run through ONNX Runtime's IOBinding, with its KV caches in memory the session
 * allocates on its own device (GPU memory under CUDA, so a decode step copies only the small inputs
 * and the logits). ONNX Runtime's Java API has no IOBinding; the implementation,
 * {@value #IMPLEMENTATION}, calls the C API of the library the Java API already loaded through
 * java.lang.foreign, which is final only from JDK 22: it is compiled separately (source root
 * {@code src/main/java22}, release 22) and loaded by name here, only on a JVM that has it.
 */
public interface BoundSession extends AutoCloseable {

    String IMPLEMENTATION = "io.headgate.model.lm.ort.OrtBoundSession";

    /** A KV cache in memory this session allocates on its device, zeroed. */
    CacheStorage allocate(CacheGeometry geometry);

    /**
     * One forward pass: host tensors bound as inputs and outputs by name, and slots
     * [firstSlot, firstSlot + rows) of {@code cache} bound as every layer's past and present keys and values.
     */
    void run(Map<String, OnnxTensor> inputs, Map<String, OnnxTensor> outputs, CacheStorage cache, int firstSlot, int rows)
            throws OrtException;

    /** The statistics ONNX Runtime keeps for the allocator the caches come from (e.g. {@code InUse} bytes for an arena). */
    Map<String, String> allocatorStats();

    /** Native handles this layer created and has not released yet, in the whole process. */
    long liveHandles();

    /** Frees every cache this session allocated and the binding itself; the session stays open. */
    @Override
    void close();

    /** Why IOBinding cannot be used on this JVM, or null when it can be tried. */
    static String unavailableReason() {
        int feature = Runtime.version().feature();
        if (feature < 22) return "JDK " + feature + " has no final java.lang.foreign (JDK 22 or newer needed)";
        try {
            Class.forName(IMPLEMENTATION);
            return null;
        } catch (ClassNotFoundException | LinkageError e) {
            return "this build has no IOBinding layer (" + IMPLEMENTATION + " was not compiled: build with JDK 22 or newer)";
        }
    }

    /**
     * Opens the binding for {@code session}, placed by {@code execution}.
     *
     * @throws UnsupportedOperationException when this JVM or build cannot, or ONNX Runtime's C API is not the pinned version
     */
    static BoundSession open(OrtSession session, Execution execution) throws OrtException {
        String reason = unavailableReason();
        if (reason != null) throw new UnsupportedOperationException(reason);
        try {
            return (BoundSession) Class.forName(IMPLEMENTATION).getMethod("open", OrtSession.class, Execution.class)
                    .invoke(null, session, execution);
        } catch (InvocationTargetException e) {
            switch (e.getCause()) {
                case OrtException o -> throw o;
                case RuntimeException r -> throw r;
                case Error err -> throw err;
                default -> throw new IllegalStateException(e.getCause());
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot open " + IMPLEMENTATION, e);
        }
    }
}
