package io.headgate.model;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;

import java.nio.Buffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Zero-copy tensors over slices of long-lived direct buffers, created on first use and reused by
 * every later step with the same slice and shape: a decode step then creates no tensor at all
 * (each creation is a JNI call). The buffers' contents change in place between runs.
 */
public final class TensorViews implements AutoCloseable {

    /** A slice of one buffer (compared by identity, not content) with a shape. */
    private record Key(Buffer base, int offset, long[] shape) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.base == base && k.offset == offset && Arrays.equals(k.shape, shape);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * System.identityHashCode(base) + offset) + Arrays.hashCode(shape);
        }
    }

    private final OrtEnvironment env;
    private final Map<Key, OnnxTensor> views = new HashMap<>();

    public TensorViews(OrtEnvironment env) {
        this.env = env;
    }

    public static int elements(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return Math.toIntExact(n);
    }

    /** A float, long or int tensor over base[offset, offset + elements(shape)); a ShortBuffer holds fp16 bits. */
    public OnnxTensor view(Buffer base, int offset, long[] shape) throws OrtException {
        Key key = new Key(base, offset, shape);
        OnnxTensor t = views.get(key);
        if (t == null) {
            t = switch (base.slice(offset, elements(shape))) {
                case FloatBuffer f -> OnnxTensor.createTensor(env, f, shape);
                case LongBuffer l -> OnnxTensor.createTensor(env, l, shape);
                case IntBuffer i -> OnnxTensor.createTensor(env, i, shape);
                case ShortBuffer h -> OnnxTensor.createTensor(env, h, shape, OnnxJavaType.FLOAT16);
                default -> throw new IllegalArgumentException("no tensor type for " + base.getClass());
            };
            views.put(key, t);
        }
        return t;
    }

    @Override
    public void close() {
        views.values().forEach(OnnxTensor::close);
        views.clear();
    }
}
