package io.headgate.model.lm.ort;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;

import java.lang.foreign.MemorySegment;
import java.lang.reflect.Field;

/**
 * The native handles behind ONNX Runtime's Java objects ({@code OrtSession*}, {@code OrtValue*}), read
 * from their private {@code nativeHandle} fields: the Java API has no accessor, and the C API needs
 * them to bind the same session and tensors. The fields are those of the pinned 1.29.0 artifact.
 */
final class JavaApiHandles {
    private JavaApiHandles() {
    }

    private static final Field SESSION = field(OrtSession.class, "nativeHandle");
    private static final Field TENSOR = field(OnnxTensorLike.class, "nativeHandle");

    private static Field field(Class<?> owner, String name) {
        try {
            Field f = owner.getDeclaredField(name);
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("ONNX Runtime's " + owner.getSimpleName() + " has no readable field " + name
                    + " (the binding layer is pinned to 1.29.0)", e);
        }
    }

    static MemorySegment session(OrtSession session) {
        return MemorySegment.ofAddress(read(SESSION, session));
    }

    static MemorySegment value(OnnxTensor tensor) {
        return MemorySegment.ofAddress(read(TENSOR, tensor));
    }

    /**
     * The {@code OrtApi*} the Java API calls through, or 0 when it cannot be read. Reading it loads the
     * Java API's native libraries first.
     */
    static long apiTable() {
        OrtEnvironment.getEnvironment();
        try {
            Field f = Class.forName("ai.onnxruntime.OnnxRuntime").getDeclaredField("ortApiHandle");
            f.setAccessible(true);
            return f.getLong(null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return 0;
        }
    }

    private static long read(Field f, Object owner) {
        try {
            long handle = f.getLong(owner);
            if (handle == 0) throw new IllegalStateException(owner.getClass().getSimpleName() + " is closed");
            return handle;
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }
}
