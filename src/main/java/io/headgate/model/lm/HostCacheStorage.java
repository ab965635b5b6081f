package io.headgate.model.lm;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A KV cache in Java direct buffers, one per layer for keys and one for values: fp32 caches are
 * seen as FloatBuffers, fp16 ones as ShortBuffers holding the half-precision bits. Runs get
 * zero-copy tensor views of them, and the graph writes new positions in place.
 */
final class HostCacheStorage implements CacheStorage {

    private final CacheGeometry geometry;
    private final ByteBuffer[] keys, values;
    /** The same buffers as float or short elements, made once so tensor views over them are reused. */
    private final Buffer[] keyElements, valueElements;
    private ByteBuffer scratch;

    /** {@link KvCache} has checked that a layer's tensor fits a direct buffer (2 GiB). */
    HostCacheStorage(CacheGeometry geometry) {
        long bytes = geometry.tensorElements() * geometry.elementBytes();
        this.geometry = geometry;
        this.keys = new ByteBuffer[geometry.layers()];
        this.values = new ByteBuffer[geometry.layers()];
        this.keyElements = new Buffer[geometry.layers()];
        this.valueElements = new Buffer[geometry.layers()];
        for (int l = 0; l < geometry.layers(); l++) {
            keys[l] = allocate(bytes);
            values[l] = allocate(bytes);
            keyElements[l] = elements(keys[l]);
            valueElements[l] = elements(values[l]);
        }
    }

    private static ByteBuffer allocate(long bytes) {
        return ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.nativeOrder());
    }

    @Override
    public CacheGeometry geometry() {
        return geometry;
    }

    private Buffer elements(ByteBuffer bytes) {
        return geometry.float16() ? bytes.asShortBuffer() : bytes.asFloatBuffer();
    }

    /** Layer {@code layer}'s keys as float or short elements. */
    Buffer keys(int layer) {
        return keyElements[layer];
    }

    Buffer values(int layer) {
        return valueElements[layer];
    }

    /** Where slot {@code slot} starts, in elements. */
    int offset(int slot) {
        return Math.toIntExact(slot * geometry.slotElements());
    }

    @Override
    public void move(int from, int to, int length) {
        if (from == to) return;
        for (int l = 0; l < geometry.layers(); l++) {
            copyPositions(keys[l], from, keys[l], to, length);
            copyPositions(values[l], from, values[l], to, length);
        }
    }

    @Override
    public void swap(int a, int b, int lengthA, int lengthB) {
        if (a == b) return;
        if (scratch == null) scratch = allocate(geometry.slotElements() * geometry.elementBytes());
        for (int l = 0; l < geometry.layers(); l++) {
            for (ByteBuffer buffer : new ByteBuffer[]{keys[l], values[l]}) {
                copyPositions(buffer, a, scratch, 0, lengthA);
                copyPositions(buffer, b, buffer, a, lengthB);
                copyPositions(scratch, 0, buffer, b, lengthA);
            }
        }
    }

    /** Copies the first {@code length} positions of every kv head: each head's positions are contiguous. */
    private void copyPositions(ByteBuffer src, int srcSlot, ByteBuffer dst, int dstSlot, int length) {
        int width = geometry.elementBytes();
        int slotBytes = Math.toIntExact(geometry.slotElements() * width);
        int headBytes = geometry.maxLength() * geometry.headDim() * width;
        int used = length * geometry.headDim() * width;
        for (int h = 0; h < geometry.kvHeads(); h++) {
            dst.put(dstSlot * slotBytes + h * headBytes, src, srcSlot * slotBytes + h * headBytes, used);
        }
    }

    @Override
    public void close() {
        // direct buffers are freed with the storage by the garbage collector
    }
}
